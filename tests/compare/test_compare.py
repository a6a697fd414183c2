"""`hwagent compare` on real designs: RTLLM v2 samples judged by the suite and priced against the references with
the same flow (ratios equal to what `hwagent ppa` gives for each side), bad input, and the report in Chromium."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals.suites import get_suite

REPO = Path(__file__).resolve().parents[2]
ADDER = """module adder_8bit(input [7:0] a, b, input cin, output [7:0] sum, output cout);
    assign {cout, sum} = a + b + cin;
endmodule
"""
BROKEN_ADDER = ADDER.replace("a + b + cin", "a - b + cin")


def hwagent(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwagent.cli", *args], check=False, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def ppa_json(path: Path, top: str) -> dict:
    done = hwagent("ppa", str(path), "--top", top, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.needs_data
def test_rtllm_ratios_equal_hwagent_ppa_of_each_side(data_dir, tmp_path, assert_renders):
    suite = get_suite("rtllm-v2", data_dir)
    counter = suite.problem("counter_12")
    samples = [{"task_id": "adder_8bit", "completion": ADDER}, {"task_id": "counter_12",
                                                                "completion": counter.reference},
               {"task_id": "adder_8bit", "completion": BROKEN_ADDER}]
    samples_file = tmp_path / "samples.jsonl"
    samples_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
    scored = hwagent("eval", "score", "--suite", "rtllm-v2", "--samples", str(samples_file), "--out",
                     str(tmp_path / "eval"), "--data", str(data_dir))
    assert scored.returncode == 0, scored.stderr
    done = hwagent("compare", str(tmp_path / "eval"), "--out", str(tmp_path / "cmp"), "--data", str(data_dir),
                   "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["designs"]
    assert len(rows) == 3
    failed = [r for r in rows if not r["passed"]]
    assert len(failed) == 1 and failed[0]["status"] == "failed its verdict (not priced)"
    assert "design_ppa" not in failed[0] and failed[0]["verdict"].startswith("failed")
    priced = [r for r in rows if r["status"] == "priced"]
    assert {r["name"] for r in priced} == {"rtllm-v2/adder_8bit", "rtllm-v2/counter_12"}
    for row in priced:
        task = suite.problem(row["name"].split("/")[1])
        design, reference = tmp_path / f"{task.id}.v", tmp_path / f"{task.id}_reference.v"
        design.write_text(ADDER if task.id == "adder_8bit" else counter.reference)
        reference.write_text(task.reference)
        mine, theirs = ppa_json(design, task.top_module), ppa_json(reference, task.top_module)
        for key in ("area_um2", "fmax_mhz", "power_mw"):
            assert row["design_ppa"][key] == mine[key] and row["reference_ppa"][key] == theirs[key], key
            assert row["ratios"][key] == pytest.approx(mine[key] / theirs[key], rel=1e-12), key
    own = next(r for r in priced if r["name"] == "rtllm-v2/counter_12")
    assert own["ratios"]["area_um2"] == 1.0  # the reference against itself
    again = hwagent("compare", str(tmp_path / "eval"), "--out", str(tmp_path / "cmp2"), "--data", str(data_dir),
                    "--json")
    assert json.loads(again.stdout)["designs"] == rows  # the PPA cache answers: same figures, no synthesis
    markdown = (tmp_path / "cmp" / "compare.md").read_text()
    assert "OSU018 0.18 um" in markdown and "relative figures only" in markdown
    assert_renders(tmp_path / "cmp" / "compare.html", tables=1)


def test_bad_input_is_one_line_with_exit_2(tmp_path):
    missing = hwagent("compare", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0 and "no such folder" in missing.stderr
    empty = hwagent("compare", str(tmp_path), "--out", str(tmp_path / "out"))
    assert empty.returncode == 2 and "holds no agent run" in empty.stderr
    config = hwagent("compare", str(tmp_path), "--out", str(tmp_path / "out"), "--block", "huge")
    assert config.returncode == 2 and "unknown block config 'huge'" in config.stderr
