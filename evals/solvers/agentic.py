"""The `agent` solver: the agent graph per (problem, sample), its run dir under the eval dir, judged officially.

`feedback="oracle"`: the suite's own testbench and judge are in the loop (the setting of AutoChip, VerilogCoder
and MAGE), so the loop's verdict already is the official one. `feedback="self"`: the agent sees only the problem
statement and a testbench it writes itself; its final design is then judged officially. Several models make a
cascade (cheapest first, escalation on failing self-tests). A killed sample resumes from its checkpoint.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.llm import LLMError
from agent.options import RunOptions
from agent.problem import Problem as AgentProblem
from agent.session import new_run, open_run
from evals.problems import agent_problem
from evals.solvers import Outcome, Solver, UnitError
from evals.suites import Problem
from evals.suites.base import Verdict

SAMPLED_TEMPERATURE = 0.7  # several samples per problem: distinct designs need sampling


class AgentSolver(Solver):
    def options(self, sample: int) -> RunOptions:
        settings = self.settings
        temperature = settings.temperature
        if temperature is None:
            temperature = SAMPLED_TEMPERATURE if settings.samples > 1 else RunOptions.model_fields["temperature"].default
        return RunOptions(models=list(settings.models), max_iters=settings.max_iters, temperature=temperature,
                          seed=sample if settings.samples > 1 else None, cache=settings.cache,
                          escalate_after=settings.escalate_after, answer_tokens=settings.answer_tokens)

    def problem(self, full_id: str) -> AgentProblem:
        problem = agent_problem(full_id, self.settings.data)
        if self.settings.feedback == "self":  # the benchmark's testbench stays out of the loop
            problem = dataclasses.replace(problem, job=None, testbench_kind="self", official=False,
                                          checked_against="a testbench written by the agent from the problem "
                                                          "statement (self-test; judged officially afterwards)")
        return problem

    def solve(self, task: Problem, sample: int) -> Outcome:
        folder = self.unit_dir(task, sample)
        problem = self.problem(task.full_id)
        existing = sorted(p.parent for p in folder.glob("*/run.json"))
        resolver = {task.full_id: problem}.get
        session = (open_run(existing[-1], resolver=resolver) if existing else
                   new_run(task.full_id, self.options(sample), folder, resolver=resolver))
        try:
            summary = session.drive()
        except LLMError as exc:
            session.write_interrupted(str(exc))
            raise UnitError(str(exc)) from None
        finally:
            session.close()
        design = session.run_dir / "design.v"
        code = design.read_text() if design.is_file() else ""
        sample_text = self.suite.as_sample(task, code)
        official = summary.get("official_verdict")
        verdict = Verdict(**official) if official else self.suite.judge(task, sample_text)
        return _outcome(summary, sample_text, verdict, session.run_dir, self.settings.models)


def _outcome(summary: dict, sample_text: str, verdict: Verdict, run_dir: Path, models: list[str]) -> Outcome:
    usage = summary.get("usage") or {}
    tiers = summary.get("tiers") or []
    model = (summary.get("best") or {}).get("model") or models[-1]
    iterations = summary.get("iterations", 0)
    unknown = bool(usage.get("cost_unknown"))
    per_tier = [{"tier": i, "model": t["model"], "calls": t.get("calls", 0), "prompt_tokens": t["prompt_tokens"],
                 "completion_tokens": t["completion_tokens"], "cost_usd": None if unknown else t["cost_usd"]}
                for i, t in enumerate(tiers)]
    return Outcome(sample_text, verdict, iterations, sum(t["calls"] for t in per_tier),
                   usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0),
                   None if unknown else usage.get("cost_usd", 0.0), model,
                   models.index(model) if model in models else len(models) - 1, str(run_dir),
                   iterations if verdict.passed else None, per_tier)
