"""No forged pass: designs that reach into the testbench, end the run early or read the report token fail.

Each probe is a reproduction from issue 11, judged by the same path `eval score` takes (suite.judge, and once the
CLI itself); the reference passes, so a failing verdict is the probe's doing."""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import hwagent

pytestmark = pytest.mark.needs_data

ZERO = "module TopModule(output zero);\n  assign zero = 1'b0;\nBODY\nendmodule\n"
KMAP_WRONG = "module TopModule(input a, input b, input c, output out);\n  assign out = a & b;\nBODY\nendmodule\n"
FORGED = {  # design body -> what it tried
    "hier-ref-ifdef": (KMAP_WRONG.replace("assign out = a & b;", "`ifdef __ICARUS__\n  assign out = tb.good1.out;\n"
                                                               "`else\n  assign out = a & b;\n`endif")),
    "force-errors-ifdef": KMAP_WRONG.replace("BODY", "`ifdef __ICARUS__\n  initial force tb.stats1.errors = 0;\n`endif"),
    "final-errors-ifdef": KMAP_WRONG.replace("BODY", "`ifdef __ICARUS__\n  final tb.stats1.errors = 0;\n`endif"),
    "finish-and-return": KMAP_WRONG.replace("BODY", "  initial $finish_and_return(0);"),
    "macro-pasted-finish": KMAP_WRONG.replace("BODY", "`define F(x) $fin``x\n  initial `F(ish);"),
    "read-testbench-token": KMAP_WRONG.replace("BODY", (
        '  integer fd, c; reg [8*40:1] tok;\n'
        '  initial begin fd = $fopen("\\056\\056/build/1_testbench_Prob050_kmap1_test.sv", "r");\n'
        '    c = $fscanf(fd, "%s", tok); end\n'
        '  final $display("%0sMismatches: 0 in 100 samples", tok);')),
    "root-reference": KMAP_WRONG.replace("BODY", "  initial $root.tb.stats1.errors = 0;"),
    "defparam-out": KMAP_WRONG.replace("BODY", "  defparam tb.good1.W = 1;"),
}


def kmap(v2):
    return v2.problem("Prob050_kmap1")


def test_the_reference_passes(v2):
    assert v2.judge(kmap(v2), kmap(v2).reference).passed


@pytest.mark.parametrize("name", list(FORGED))
def test_forged_pass_attempts_fail(v2, name):
    verdict = v2.judge(kmap(v2), FORGED[name])
    assert not verdict.passed, (name, verdict)
    assert verdict.reason == "rejected", (name, verdict.reason, verdict.detail)


def test_eval_score_reports_no_forged_pass(v2, data_dir, tmp_path):
    """The CLI path: every forged sample fails, pass@1 is 0, and no row says passed with mismatches."""
    samples = tmp_path / "forged.jsonl"
    samples.write_text("".join(json.dumps({"task_id": "Prob050_kmap1", "completion": body}) + "\n"
                               for body in FORGED.values()))
    result = hwagent("eval", "score", "--suite", "verilog-eval-v2:spec-to-rtl", "--samples", str(samples),
                     "--out", str(tmp_path / "out"), "-k", "1", "--json", env={"HWAGENT_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["errata_included"]["passed_samples"] == 0
    assert summary["errata_included"]["pass_at_k"]["pass@1"] == 0.0
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(FORGED) and not any(row["passed"] for row in rows)


def test_zero_samples_is_never_a_pass(v2):
    """A run the testbench did not finish checking ("Mismatches: 0 in 0 samples") fails in every judge."""
    from evals.suites.verilog_eval import analyze_v2

    letter, mismatches, samples = analyze_v2([("Mismatches: 0 in 0 samples", True)], "")
    assert letter != "." and (mismatches, samples) == (0, 0)
    from verify.jobs import native_rule
    from verify.sim import IcarusRun

    raw = IcarusRun(compiled=True, compile_rc=0, sim_rc=0, sim_lines=[("Mismatches: 0 in 0 samples", True)])
    assert not native_rule()("t", raw, "").passed
    from evals.suites.verilog_eval import judge_v1

    assert not judge_v1("t", raw, "").passed
