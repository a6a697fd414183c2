"""The verdict the agent acts on is the verdict `eval score` reports: for every suite, references and failing
mutants go through the agent's simulate node (benchmark id -> agent problem -> recipe) and through
`score_samples` (the eval path), and both give the same result string, class and counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.context import RunContext
from agent.nodes.evaluate import simulate
from agent.options import RunOptions
from evals.problems import agent_problem
from evals.score import Sample, score_samples
from evals.suites import SUITES, get_suite

STRIDE = 10  # every 10th problem of a benchmark suite: 16 + 16 + 16 + 15 + 5 problems, three samples each
MFM_TASKS = ("requant_1lane", "iexp")  # cocotb runs: two small units
COMPARED = ("passed", "result", "reason", "mismatches", "samples", "detail")


def module_of(suite, task) -> str:
    """A full module implementing the task (what an LLM answers), from the suite's reference sample."""
    return task.interface + task.reference if suite.id.startswith("verilog-eval-v1") else task.reference


def samples_of(suite, task) -> dict[str, str]:
    """The reference, an empty module (outputs undriven) and one that does not compile, as full modules."""
    reference = module_of(suite, task)
    header = task.interface.strip()
    return {"reference": reference, "empty": f"{header}\nendmodule\n",
            "syntax": re.sub(r"\bendmodule\b", "endmodule_", reference, count=1)}


def through_the_agent(full_id: str, data_dir: Path, code: str, folder: Path) -> dict:
    problem = agent_problem(full_id, data_dir)
    design = folder / "design.v"
    design.parent.mkdir(parents=True)
    design.write_text(code)
    ctx = RunContext(problem, RunOptions(models=["replay/none"]), folder)
    state = {"candidates": [{"code": code, "path": str(design), "ports": {"ok": True}, "lint": {"passed": True}}]}
    return simulate(state, ctx)["candidates"][0]["sim"]["official"]


def tasks_of(suite) -> list:
    if suite.id == "mfm-accel":
        return [suite.problem(task_id) for task_id in MFM_TASKS]
    return suite.problems()[::STRIDE]


@pytest.mark.needs_data
@pytest.mark.parametrize("suite_id", list(SUITES))
def test_agent_and_eval_score_give_the_same_verdict(suite_id, data_dir, tmp_path):
    suite = get_suite(suite_id, data_dir)
    cases = [(task, kind, code) for task in tasks_of(suite) for kind, code in samples_of(suite, task).items()]
    samples = [Sample(task.id, suite.as_sample(task, code), number) for number, (task, _, code) in enumerate(cases)]
    rows, _ = score_samples(suite, samples, tmp_path / "score", jobs=2)
    scored = {row["completion_id"]: row for row in rows}
    failing_mutants = 0
    for number, (task, kind, code) in enumerate(cases):
        agent = through_the_agent(task.full_id, data_dir, code, tmp_path / f"agent_{number}")
        row = scored[number]
        official = {"passed": row["passed"], "result": row["result"], "reason": row["reason"],
                    "mismatches": row["mismatches"], "samples": row["tb_samples"], "detail": row["detail"]}
        if suite_id == "mfm-accel":  # cocotb's log tail carries wall-clock times
            official["detail"] = agent["detail"] if official["detail"] else ""
        assert {key: agent[key] for key in COMPARED} == official, (task.id, kind)
        if kind == "reference" and task.id not in suite.errata():
            assert official["passed"], (task.id, official)
        failing_mutants += kind != "reference" and not official["passed"]
    mutants = sum(kind != "reference" for _, kind, _ in cases)
    assert failing_mutants >= mutants - 2, f"{failing_mutants} of {mutants} mutants fail"  # weak RTLLM testbenches
