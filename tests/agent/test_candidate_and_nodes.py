"""The candidate ladder, ranking and history summaries as pure functions (no EDA tools), and a checkpoint written
by hwagent before the graph was split into modules, resumed by today's nodes (SCRIPTED transcript)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from scripted import ADDSAT_GOOD, ADDSAT_SPEC, ADDSAT_WRAPS, answer, exchange, write_transcript

from agent.candidate import rank_key, stage, verdict
from agent.feedback import candidate_feedback, history_summary
from agent.session import open_run

OLD_RUN = Path(__file__).parent / "fixtures" / "checkpoint_before_refactor"
PASSED_SIM = {"passed": True, "reason": "passed", "summary": "passed (300 samples)", "rows": []}


def mismatch(count: int) -> dict:
    return {"passed": False, "reason": "mismatch", "mismatches": count, "samples": 300,
            "summary": f"mismatch: {count} of 300 samples", "rows": [{"signal": "y"}]}


LADDER = [  # (candidate, stage, one-line verdict)
    ({"code": None}, "no_code", "no code"),
    ({"code": None, "extract_problem": "the answer defines top_module but not the required TopModule"}, "no_code",
     "no code: the answer defines top_module but not the required TopModule"),
    ({"code": "m", "ports": {"ok": False, "problems": ["a", "b"]}}, "ports", "wrong interface (2 port problems)"),
    ({"code": "m", "ports": {"ok": True}, "lint": {"passed": False, "errors": 3}}, "lint", "lint: 3 error(s)"),
    ({"code": "m", "ports": {"ok": True}, "lint": {"passed": True}}, "sim_error", "not simulated"),
    ({"code": "m", "sim": {"passed": False, "reason": "timeout", "summary": "timeout", "rows": []}}, "sim_error",
     "timeout"),
    ({"code": "m", "sim": mismatch(7)}, "mismatch", "mismatch: 7 of 300 samples on y"),
    ({"code": "m", "sim": PASSED_SIM, "ppa": {"violations": [{"figure": "cells", "over_pct": 12.5}]}}, "ppa",
     "passes, cells 12.5% over budget"),
    ({"code": "m", "sim": PASSED_SIM, "ppa": {"error": "yosys failed", "violations": []}}, "ppa",
     "passes, synthesis failed"),
    ({"code": "m", "sim": PASSED_SIM, "ppa": {"ok": True, "violations": []}}, "passed", "passes within the PPA budget"),
    ({"code": "m", "sim": PASSED_SIM}, "passed", "passes"),
]


@pytest.mark.parametrize(("candidate", "expected_stage", "line"), LADDER)
def test_stage_and_verdict_walk_the_same_ladder(candidate, expected_stage, line):
    assert stage(candidate) == expected_stage
    assert verdict(candidate) == line


def test_feedback_starts_where_the_ladder_stopped():
    no_code = candidate_feedback({"code": None, "extract_problem": "the answer contains no Verilog module"}, "m")
    assert "the answer contains no Verilog module" in no_code
    ports = candidate_feedback(LADDER[2][0] | {"ports": {"ok": False, "problems": ["port `y` is 9 bits"]}}, "m")
    assert "port `y` is 9 bits" in ports
    assert "Synthesis failed: yosys failed" in candidate_feedback(LADDER[8][0], "m")
    assert candidate_feedback(LADDER[-1][0], "m") == ""


def test_ranking_prefers_further_stages_then_fewer_mismatches_then_smaller_designs():
    small = {"code": "m", "sim": PASSED_SIM, "ppa": {"ok": True, "violations": [], "figures": {"area_um2": 10.0}}}
    big = small | {"ppa": {"ok": True, "violations": [], "figures": {"area_um2": 99.0}}}
    over = {"code": "m", "sim": PASSED_SIM, "ppa": {"violations": [{"over_pct": 5}], "overshoot_pct": 5.0}}
    few, many = {"code": "m", "sim": mismatch(2)}, {"code": "m", "sim": mismatch(40)}
    warned = {"code": "m", "sim": mismatch(2), "lint": {"passed": True, "warnings": 4}}
    ranked = sorted([many, LADDER[0][0], warned, big, over, few, LADDER[4][0], small], key=rank_key)
    assert ranked == [small, big, over, few, warned, many, LADDER[4][0], LADDER[0][0]]


def test_history_summary_merges_equal_verdicts_and_stays_bounded():
    history = [f"iteration {i}: mismatch: 146 of 300 samples on y" for i in range(1, 5)]
    history += ["iteration 5: lint: 1 error(s)", "iteration 6: mismatch: 146 of 300 samples on y"]
    assert history_summary(history) == ["iterations 1-4: mismatch: 146 of 300 samples on y",
                                        "iteration 5: lint: 1 error(s)",
                                        "iteration 6: mismatch: 146 of 300 samples on y"]
    assert history_summary(history, max_lines=1) == ["iteration 6: mismatch: 146 of 300 samples on y"]
    assert history_summary(history, max_chars=60) == ["iteration 6: mismatch: 146 of 300 samples on y"]
    varied = [f"iteration {i}: verdict number {i}" for i in range(1, 40)]
    lines = history_summary(varied)
    assert len(lines) == 6 and sum(map(len, lines)) <= 400 and lines[-1] == "iteration 39: verdict number 39"


def test_a_checkpoint_written_before_the_refactor_resumes(tmp_path):
    run_dir = tmp_path / OLD_RUN.name
    shutil.copytree(OLD_RUN, run_dir)
    meta = json.loads((run_dir / "run.json").read_text())
    meta["input"] = str(ADDSAT_SPEC)  # the machine that wrote it had its own checkout path
    (run_dir / "run.json").write_text(json.dumps(meta))
    up = write_transcript(tmp_path / "up.jsonl", [
        exchange(answer(ADDSAT_WRAPS)),
        exchange(answer(ADDSAT_GOOD), expect=["Mismatches on y", "| 2 | 25 | 255 | 44 |", "iteration 1: mismatch"])],
        "the conversation of the old run, continued once the provider is back")
    session = open_run(run_dir, models=[f"replay/{up}"])
    summary = session.drive()
    session.close()
    assert summary["passed"] and summary["iterations"] == 2
    assert summary["history"] == ["iteration 1: mismatch: 146 of 300 samples on y", "iteration 2: passes within the PPA budget"]
    assert (run_dir / "design.v").read_text() == ADDSAT_GOOD
