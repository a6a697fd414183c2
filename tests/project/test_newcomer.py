"""What a newcomer hits first (issue "What a newcomer hits"): every README command answers --help, tables keep their
numbers whole when piped, errors are one line, and the small defects found by trying the tool as a new user."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "spec_templates" / "examples"


def hwagent(*args, env=None, **kw):
    environment = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    return subprocess.run([sys.executable, "-m", "hwagent.cli", *args], cwd=ROOT, env=environment | (env or {}),
                          capture_output=True, text=True, timeout=600, check=False, **kw)


def readme_commands() -> list[list[str]]:
    """The command words of every `hwagent ...` row of README.md's command table."""
    commands = []
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\| `hwagent ([^`]*)`", line)
        if match:
            words = []
            for word in match.group(1).split():
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                words.append(word)
            commands.append(words)
    return commands


def test_every_readme_command_answers_help():
    commands = readme_commands()
    assert len(commands) >= 20
    for words in commands:
        result = hwagent(*words, "--help")
        assert result.returncode == 0, (words, result.stderr)
        assert "Usage: " in result.stdout


def test_version_and_short_help():
    assert re.fullmatch(r"hwagent \d+\.\d+\.\d+\n", hwagent("--version").stdout)
    assert "Usage: " in hwagent("-h").stdout and "Usage: " in hwagent("eval", "-h").stdout


@pytest.mark.parametrize("args", [("profile", "vit-tiny"), ("doctor",), ("eval", "list"), ("bench", "--help")])
def test_piped_tables_at_80_columns_keep_every_cell_whole(args, tmp_path):
    result = hwagent(*args, env={"COLUMNS": "80"})
    assert result.returncode in (0, 2), result.stderr
    assert "…" not in result.stdout, result.stdout[:3000]


def test_profile_numbers_appear_whole_when_piped():
    text = hwagent("profile", "vit-tiny", env={"COLUMNS": "80"}).stdout
    data = json.loads(hwagent("profile", "vit-tiny", "--json").stdout)
    for layer in data["phases"][0]["sections"][1]["layers"]:
        assert re.search(rf"\b{re.escape(layer['name'])}\b", text), layer["name"]
        if layer["m"]:
            assert f" {layer['m']} " in text
    assert "|out| p99.9" in text


def test_unknown_problem_suggests_the_id(data_dir, tmp_path):
    from scripted import write_transcript

    transcript = write_transcript(tmp_path / "t.jsonl", [], "never asked")
    result = hwagent("run", "verilog-eval-v2:spec-to-rtl/Prob050", "--llm", f"replay/{transcript}", "--data",
                     str(data_dir), "--out", str(tmp_path / "runs"))
    assert result.returncode == 2 and "did you mean Prob050_kmap1?" in result.stderr


def test_eval_list_names_tasks_and_flags_weak_testbenches(data_dir):
    result = hwagent("eval", "list", "rtllm-v2", "--data", str(data_dir), "--json")
    rows = {row["task"]: row for row in json.loads(result.stdout)}
    assert len(rows) == 50 and rows["comparator_3bit"]["weak_testbench"] and rows["asyn_fifo"]["erratum"]


def test_partial_scoring_says_so_names_short_tasks_and_records_provenance(data_dir, tmp_path):
    from evals.suites import get_suite

    suite = get_suite("verilog-eval-v2:spec-to-rtl", data_dir)
    samples = tmp_path / "s.jsonl"
    rows = [{"task_id": t.id, "completion": t.reference} for t in suite.problems()[:3]]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows + rows[:1]))
    result = hwagent("eval", "score", "--suite", suite.id, "--data", str(data_dir), "--samples", str(samples),
                     "--out", str(tmp_path / "out"), "-k", "1,2", "--model", "hand-written", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "only 3 of 156 tasks have samples" in result.stdout
    assert "pass@2 not reported: fewer than 2 samples for Prob002_m2014_q4i, Prob003_step_one" in result.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["provenance"]["models"] == ["hand-written"] and summary["provenance"]["tools"]["iverilog"]
    assert hwagent("eval", "report", str(tmp_path / "out")).returncode == 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Partial run" in page and "Provenance" in page and "Prob004_vector2" in page


def test_weak_testbench_rows_are_flagged(data_dir, tmp_path):
    from evals.suites import get_suite

    suite = get_suite("rtllm-v2", data_dir)
    task = suite.problem("comparator_3bit")
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": task.id, "completion": task.interface + "endmodule\n"}) + "\n")
    result = hwagent("eval", "score", "--suite", suite.id, "--data", str(data_dir), "--samples", str(samples),
                     "--out", str(tmp_path / "out"), "-k", "1")
    assert result.returncode == 0 and "weak testbenches" in result.stdout
    row = json.loads((tmp_path / "out" / "results.jsonl").read_text().splitlines()[0])
    assert row["passed"] and row["weak_testbench"]  # an empty module passes: the row says why not to trust it


def test_fetch_uses_data_already_under_the_data_root(data_dir):
    result = hwagent("eval", "fetch", "rtllm-v2", env={"HWAGENT_DATA_DIR": str(data_dir)})
    assert result.returncode == 0 and str(data_dir / "rtllm-v2") in result.stdout


def test_doctor_json_reports_llm_keys_data_and_caches(tmp_path):
    result = hwagent("doctor", "--json", env={"HWAGENT_DATA_DIR": str(tmp_path), "OPENAI_API_KEY": "sk-secret",
                                              "HWAGENT_CACHE_DIR": str(tmp_path / "cache")})
    data = json.loads(result.stdout)
    assert data["llm"]["OPENAI_API_KEY"] is True and "sk-secret" not in result.stdout
    assert data["benchmarks"]["root"] == str(tmp_path) and data["benchmarks"]["suites"]["mfm-accel"] is True
    assert data["benchmarks"]["suites"]["rtllm-v2"] is False and data["cache"]["root"] == str(tmp_path / "cache")


def test_sim_runs_a_specs_own_cocotb_testbench():
    bare = hwagent("sim", str(EXAMPLES / "requant_ref.v"), "--cocotb", str(EXAMPLES / "requant_tb.py"), "--top",
                   "requant_int8")
    assert bare.returncode == 2 and "--vectors FILE.json" in bare.stderr and "Traceback" not in bare.stderr
    with_vectors = hwagent("sim", str(EXAMPLES / "requant_ref.v"), "--cocotb", str(EXAMPLES / "requant_tb.py"),
                           "--top", "requant_int8", "--vectors", str(EXAMPLES / "requant_vectors.json"), "--json")
    assert with_vectors.returncode == 0, with_vectors.stderr
    spec = hwagent("sim", str(EXAMPLES / "requant_ref.v"), "--spec", str(EXAMPLES / "requant.yaml"), "--json")
    assert spec.returncode == 0 and json.loads(spec.stdout)["passed"]


def test_port_check_uses_the_specs_parameters(tmp_path):
    from agent.checks import check_ports
    from agent.problem import Problem
    from spec_templates.units import UNITS

    unit = UNITS["requant"]
    spec, _, _ = unit.build({"LANES": 8}, {})  # the reference's default is LANES = 16
    problem = Problem("requant-8", spec, "")
    assert check_ports(unit.paths()[0], problem) == {"ok": True, "problems": []}
    narrow = tmp_path / "requant.v"
    narrow.write_text(unit.paths()[0].read_text().replace("[LANES*IN_W-1:0] in_vec", "[IN_W-1:0] in_vec"))
    assert check_ports(narrow, problem)["problems"] == ["port `in_vec` is 40 bits wide, the spec says 320"]


def test_a_clock_target_is_never_met_by_an_unmeasurable_path(tmp_path):
    from agent.checks import run_ppa
    from agent.problem import Problem
    from spec_templates.spec import parse_spec

    spec = parse_spec({"name": "tie", "description": "constant", "clock": {"name": "clk"},
                       "ports": [{"name": "clk", "direction": "input"}, {"name": "y", "direction": "output"}],
                       "ppa": {"clock_mhz": 100}})
    design = tmp_path / "tie.v"
    design.write_text("module tie(input clk, output y); assign y = 1'b0; endmodule\n")
    result = run_ppa(design, Problem("tie", spec, ""))
    assert not result["ok"] and result["violations"][0]["figure"] == "timing"
    assert "no timing path could be measured" in result["violations"][0]["note"]


def test_budget_for_an_unpriced_model_is_refused(tmp_path):
    from llm_loopback import LoopbackServer, Reply, openai_chat

    with LoopbackServer([Reply(200, openai_chat(["x"]))]) as server:
        result = hwagent("run", str(EXAMPLES / "requant.yaml"), "--llm", "openai-api/gw/coder", "--budget-usd", "1",
                         "--out", str(tmp_path), env={"GW_BASE_URL": server.url + "/v1"})
    assert result.returncode == 2 and "no price is known for openai-api/gw/coder" in result.stderr
