"""The real agent graph (real lint, Icarus, Yosys/OpenSTA, SQLite checkpoints) driven by SCRIPTED transcripts.

Each scripted exchange lists strings the prompt must contain (`expect`): the replay provider refuses the run
when the feedback the LLM would see lacks them, so these tests check the feedback text itself.
"""

from __future__ import annotations

import json

import pytest
from scripted import (
    ADDSAT_GOOD,
    ADDSAT_SPEC,
    ADDSAT_SYNTAX_ERROR,
    ADDSAT_WASTEFUL,
    ADDSAT_WRAPS,
    ADDSAT_WRONG_PORTS,
    answer,
    exchange,
    write_transcript,
)

from agent.llm import LLMError
from agent.options import RunOptions
from agent.session import new_run, open_run


def run(tmp_path, exchanges, description, spec=ADDSAT_SPEC, **options):
    transcript = write_transcript(tmp_path / "transcript.jsonl", exchanges, description)
    opts = RunOptions(models=[f"replay/{transcript}"], **({"max_iters": 4} | options))
    session = new_run(str(spec), opts, tmp_path / "runs")
    try:
        return session.drive(), session.run_dir
    finally:
        session.close()


def prompt(run_dir, iteration):
    return (run_dir / f"iter_{iteration:02d}" / "prompt.md").read_text()


def test_syntax_error_then_fix(tmp_path):
    summary, run_dir = run(tmp_path, [
        exchange(answer(ADDSAT_SYNTAX_ERROR), expect=["addsat", "| `y` | output | 8 |"]),
        exchange(answer(ADDSAT_GOOD), expect=["design.v:6:27: error: expected ';'", "6 |     wire [8:0] sum = a + b",
                                              "iteration 1"]),
    ], "syntax error then fix")
    assert summary["passed"] and summary["iterations"] == 2
    assert summary["history"][0].startswith("iteration 1") and "lint" in summary["history"][0]
    assert (run_dir / "design.v").read_text() == ADDSAT_GOOD
    lint = json.loads((run_dir / "iter_01" / "cand_0" / "lint.json").read_text())
    assert lint["lint"]["errors"] >= 1 and lint["lint"]["diagnostics"][0]["line"] == 6


def test_functional_bug_fixed_after_mismatch_feedback_with_trace(tmp_path):
    summary, run_dir = run(tmp_path, [
        exchange(answer(ADDSAT_WRAPS)),
        # 200 + 100 = 300 wraps to 44; the trace shows the driver `sum` and its assignment line
        exchange(answer(ADDSAT_GOOD), expect=["Mismatches on y", "| 2 | 25 | 255 | 44 |",
                                              "Assignments driving `y` are marked",
                                              "    wire [7:0] sum = a + b;  // <- y", "<- first mismatch"]),
    ], "functional bug then fix")
    assert summary["passed"] and summary["iterations"] == 2
    trace = json.loads((run_dir / "iter_01" / "cand_0" / "trace.json").read_text())
    assert {"target": "sum", "line": 6, "text": "wire [7:0] sum = a + b;"}.items() <= trace["assignments"][0].items()
    feedback = (run_dir / "iter_01" / "feedback.md").read_text()
    table = next(line for line in feedback.splitlines() if "<- first mismatch" in line)
    assert table.endswith("| 44 | 255 | 44 | 200 | 100 |")  # y got, y expected, then sum, a, b
    assert (run_dir / "iter_01" / "cand_0" / "waves.vcd").is_file()


def test_ppa_budget_miss_is_reported_and_improved(tmp_path):
    from verify.ppa import synthesize

    design = tmp_path / "wasteful.v"
    design.write_text(ADDSAT_WASTEFUL)
    cells = synthesize([design], "addsat").cells   # what the PPA feedback must report, measured the same way
    over = round(100 * (cells - 60) / 60, 1)
    summary, run_dir = run(tmp_path, [
        exchange(answer(ADDSAT_WASTEFUL)),
        exchange(answer(ADDSAT_GOOD), expect=["misses the PPA budget", f"| cells | {cells} | 60 | {over}% |"]),
    ], "PPA budget miss then a smaller design")
    assert cells > 60 and summary["passed"] and summary["best"]["ppa"]["figures"]["cells"] <= 60
    first = json.loads((run_dir / "iter_01" / "cand_0" / "ppa.json").read_text())
    assert first["violations"][0] == {"figure": "cells", "value": cells, "limit": 60, "unit": "",
                                      "over_pct": over}


def test_answer_without_code_is_a_failed_candidate(tmp_path):
    summary, run_dir = run(tmp_path, [
        exchange("I would add the two numbers and clamp the result, let me know if that is fine."),
        exchange(answer(ADDSAT_GOOD), expect=["could not be used: the answer contains no Verilog module"]),
    ], "prose without code, then code")
    assert summary["passed"] and "no code" in summary["history"][0]
    assert not (run_dir / "iter_01" / "cand_0" / "design.v").exists()


def test_port_mismatch_reported_as_such_not_as_simulation(tmp_path):
    summary, run_dir = run(tmp_path, [
        exchange(answer(ADDSAT_WRONG_PORTS)),
        exchange(answer(ADDSAT_GOOD), expect=["port `y` is 9 bits wide, the spec says 8"]),
    ], "wrong port width then fix")
    assert summary["passed"]
    assert not (run_dir / "iter_01" / "cand_0" / "sim.json").exists()


def test_k_candidates_ranked_best_carried_forward(tmp_path):
    summary, run_dir = run(tmp_path, [
        exchange(texts=[answer(ADDSAT_SYNTAX_ERROR), answer(ADDSAT_WRAPS), "no code"]),
        exchange(texts=[answer(ADDSAT_GOOD), answer(ADDSAT_WRAPS), answer(ADDSAT_WRAPS)],
                 expect=["Your best design so far (iteration 1)", "Simulation: mismatch", "assign y = sum;"]),
    ], "three candidates per iteration", candidates=3)
    assert summary["passed"] and summary["best"]["candidate"] == 0
    ranked = json.loads((run_dir / "iter_01" / "rank.json").read_text())
    assert [r["index"] for r in ranked] == [1, 0, 2]


def test_cascade_escalates_and_records_tiers(tmp_path):
    cheap = write_transcript(tmp_path / "cheap.jsonl", [exchange(answer(ADDSAT_WRAPS))], "cheap tier fails")
    strong = write_transcript(tmp_path / "strong.jsonl", [
        exchange(answer(ADDSAT_GOOD), expect=["Mismatches on y", "| 2 | 25 | 255 | 44 |"])], "strong tier fixes it")
    options = RunOptions(models=[f"replay/{cheap}", f"replay/{strong}"], max_iters=4, escalate_after=1)
    session = new_run(str(ADDSAT_SPEC), options, tmp_path / "runs")
    summary = session.drive()
    session.close()
    assert summary["passed"]
    cheap_tier, strong_tier = summary["tiers"]
    assert (cheap_tier["iterations"], cheap_tier["solved"]) == (1, False)
    assert (strong_tier["iterations"], strong_tier["solved"], strong_tier["from_iteration"]) == (1, True, 2)
    assert summary["best"]["model"].endswith("strong.jsonl")


def test_budget_exhausted_keeps_best_design(tmp_path):
    summary, run_dir = run(tmp_path, [exchange(answer(ADDSAT_WRAPS)), exchange(answer(ADDSAT_WRAPS))],
                           "never fixed", max_iters=2)
    assert not summary["passed"] and summary["status"] == "budget: 2 iterations used"
    assert (run_dir / "design.v").read_text() == ADDSAT_WRAPS


def test_provider_outage_then_resume_with_recovered_provider(tmp_path):
    down = write_transcript(tmp_path / "down.jsonl", [exchange(answer(ADDSAT_WRAPS)), exchange(error="server")],
                            "provider fails on the second call")
    options = RunOptions(models=[f"replay/{down}"], max_iters=4)
    session = new_run(str(ADDSAT_SPEC), options, tmp_path / "runs")
    with pytest.raises(LLMError) as info:
        session.drive()
    assert info.value.kind == "server"
    interrupted = session.write_interrupted(str(info.value))
    session.close()
    assert interrupted["status"].startswith("interrupted") and interrupted["iterations"] == 1
    up = write_transcript(tmp_path / "up.jsonl", [exchange(answer(ADDSAT_WRAPS)),
                                                  exchange(answer(ADDSAT_GOOD), expect=["Mismatches on y", "| 2 | 25 | 255 | 44 |"])],
                          "the same conversation once the provider is back")
    resumed = open_run(session.run_dir, models=[f"replay/{up}"])
    summary = resumed.drive()
    resumed.close()
    assert summary["passed"] and summary["iterations"] == 2


def test_review_edits_feedback_before_repair(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [
        exchange(answer(ADDSAT_WRAPS)),
        exchange(answer(ADDSAT_GOOD), expect=["REVIEWER: saturate at 255"])], "review edits the feedback")
    seen = []

    def reviewer(payload):
        seen.append(payload)
        return {"action": "edit", "feedback": "REVIEWER: saturate at 255 instead of wrapping."}

    session = new_run(str(ADDSAT_SPEC), RunOptions(models=[f"replay/{transcript}"], review=True),
                      tmp_path / "runs")
    summary = session.drive(reviewer)
    session.close()
    assert summary["passed"] and seen[0]["iteration"] == 1 and "| y |" in seen[0]["feedback"]


def test_review_stop_ends_the_run(tmp_path):
    transcript = write_transcript(tmp_path / "t.jsonl", [exchange(answer(ADDSAT_WRAPS))], "review stops")
    session = new_run(str(ADDSAT_SPEC), RunOptions(models=[f"replay/{transcript}"], review=True),
                      tmp_path / "runs")
    summary = session.drive(lambda payload: {"action": "stop"})
    session.close()
    assert summary["status"] == "stopped: by reviewer" and summary["iterations"] == 1


def test_diverging_conversation_is_refused(tmp_path):
    with pytest.raises(LLMError, match="lacks"):
        run(tmp_path, [exchange(answer(ADDSAT_WRAPS)),
                       exchange(answer(ADDSAT_GOOD), expect=["this text is never in the feedback"])],
            "expects feedback that never comes")


def test_plan_step_goes_into_every_design_prompt(tmp_path):
    plan = "PLAN: one 9-bit adder; saturate when bit 8 is set."
    summary, run_dir = run(tmp_path, [
        exchange(plan, expect=["write a short design plan"]),
        exchange(answer(ADDSAT_WRAPS), expect=["## Design plan", plan]),
        exchange(answer(ADDSAT_GOOD), expect=[plan, "Mismatches on y", "| 2 | 25 | 255 | 44 |"]),
    ], "plan first, then designs", plan=True)
    assert summary["passed"] and (run_dir / "plan.md").read_text() == plan


def test_token_budget_stops_the_run(tmp_path):
    summary, _ = run(tmp_path, [exchange(answer(ADDSAT_WRAPS))] * 3, "never fixed, 1200 tokens per call",
                     max_tokens=2000)
    assert summary["status"] == "budget: 2000 tokens used" and summary["iterations"] == 2
    assert summary["usage"]["prompt_tokens"] == 2000 and summary["usage"]["completion_tokens"] == 400


def test_the_same_design_is_not_traced_twice(tmp_path):
    _, run_dir = run(tmp_path, [exchange(answer(ADDSAT_WRAPS)), exchange(answer(ADDSAT_WRAPS))],
                     "the model repeats itself", max_iters=2)
    assert (run_dir / "iter_01" / "cand_0" / "trace.json").is_file()
    assert not (run_dir / "iter_02" / "cand_0" / "trace.json").exists()
    assert "Waveform around the first mismatch" in (run_dir / "iter_02" / "feedback.md").read_text()


def test_cascade_does_not_escalate_when_only_ppa_misses(tmp_path):
    cheap = write_transcript(tmp_path / "cheap.jsonl", [exchange(answer(ADDSAT_WASTEFUL)), exchange(answer(ADDSAT_GOOD))],
                             "cheap tier: too big, then small enough")
    strong = write_transcript(tmp_path / "strong.jsonl", [], "never asked")
    options = RunOptions(models=[f"replay/{cheap}", f"replay/{strong}"], max_iters=4, escalate_after=1)
    session = new_run(str(ADDSAT_SPEC), options, tmp_path / "runs")
    summary = session.drive()
    session.close()
    assert summary["passed"] and summary["tiers"][0]["solved"] and summary["tiers"][1]["iterations"] == 0
