"""The mfm-accel suite: problems built from unit specs, judged by cocotb on Icarus (real runs).

(`tests/evals/test_refs.py` scores every reference when benchmark data is present; this file needs none.)
"""

import pytest

from evals.score import Sample, score_samples
from evals.suites import SUITES, get_suite
from evals.suites.mfm_accel import TASKS, build_task


def test_suite_is_registered_and_self_contained(tmp_path, monkeypatch):
    monkeypatch.setenv("HWAGENT_DATA_DIR", str(tmp_path / "nowhere"))
    assert "mfm-accel" in SUITES
    suite = get_suite("mfm-accel")
    problems = suite.problems()
    assert 10 <= len(problems) <= 20 and len({p.id for p in problems}) == len(problems)
    gemm = suite.problem("systolic_8x8")
    assert gemm.interface.startswith("module systolic_array") and "parameter R = 8" in gemm.interface
    assert "## Interface" in gemm.prompt and "module pe" in gemm.reference
    for task in TASKS:
        assert build_task(task.id).vectors or task.unit == "qblock_top", task.id
    block = suite.problem("block_tiny")
    assert "module vector_unit" in block.reference and "HWAGENT_QB_CONFIG" in block.testbench


def test_references_pass_and_bugs_fail(tmp_path):
    suite = get_suite("mfm-accel")
    chosen = ["iexp", "systolic_2x2", "softmax_row_2lane"]
    samples = [Sample(task, suite.problem(task).reference, 0) for task in chosen]
    iexp = suite.problem("iexp").reference
    samples.append(Sample("iexp", iexp.replace("e <= sum >> z1;", "e <= sum >> (z1 + 5'd1);"), 1))
    samples.append(Sample("recip31", "module recip(input clk); endmodule\n", 0))
    rows, _ = score_samples(suite, samples, tmp_path, jobs=2)
    verdicts = {(row["task_id"], row["completion_id"]): row for row in rows}
    for task in chosen:
        assert verdicts[(task, 0)]["passed"], verdicts[(task, 0)]["detail"]
    wrong = verdicts[("iexp", 1)]
    assert not wrong["passed"] and wrong["reason"] == "mismatch" and "signal=e" in wrong["detail"]
    assert verdicts[("recip31", 0)]["reason"] in ("compile_error", "mismatch", "runtime_error")
    assert not verdicts[("recip31", 0)]["passed"]


@pytest.mark.parametrize("task_id", ["isqrt16", "layernorm_row_2lane"])
def test_more_references(task_id):
    suite = get_suite("mfm-accel")
    problem = suite.problem(task_id)
    verdict = suite.judge(problem, problem.reference)
    assert verdict.passed, verdict.detail
