"""Benchmark ids as agent problems: the task's prompt and interface, and the suite's own run recipe.

`agent_problem("rtllm-v2/adder_8bit")` gives an `agent.problem.Problem` whose `job(design_text)` is
`suite.job(task, suite.as_sample(task, design_text))`: the object `eval score` runs too, so the verdict the agent
acts on is the benchmark's verdict (same result string and class).
"""

from __future__ import annotations

import re
from pathlib import Path

from agent.problem import Problem, ProblemError, Resolver, interface_spec
from evals.data import DataMissing
from evals.suites import SUITES, Suite, resolve
from evals.suites import Problem as Task
from evals.suites.mfm_accel import build_task
from spec_templates.spec import render_markdown


def agent_problem(full_id: str, data: str | Path | None = None) -> Problem:
    """The agent problem of a benchmark id, or ProblemError with one line saying what is wrong."""
    try:
        suite, task = resolve(full_id, data)
    except DataMissing as exc:
        raise ProblemError(str(exc)) from None
    except KeyError as exc:
        raise ProblemError(str(exc.args[0])) from None
    checked = f"{suite.id}'s own testbench and judge"
    recipe = _recipe(suite, task)
    if suite.id == "mfm-accel":
        spec = build_task(task.id).spec
        return Problem(task.full_id, spec, render_markdown(spec), render_markdown(spec, module_header=False),
                       job=recipe, testbench_kind="cocotb", checked_against=checked, official=True)
    spec = interface_spec(task.top_module, task.interface, task.prompt, task.full_id)
    return Problem(task.full_id, spec, _prompt(task), job=recipe, testbench_kind="native", checked_against=checked,
                   official=True)


def _recipe(suite: Suite, task: Task):
    def job(design_text: str):
        return suite.job(task, suite.as_sample(task, design_text))
    return job


def _prompt(task: Task) -> str:
    """The task's prompt, with its module header when the prompt does not even name the module (VerilogEval v1)."""
    text = task.prompt.strip()
    if not re.search(rf"\b{re.escape(task.top_module)}\b", text) and task.interface.strip():
        text += f"\n\nModule header:\n\n```verilog\n{task.interface.strip()}\n```"
    return text + "\n"


def is_benchmark_id(text: str) -> bool:
    return text.partition("/")[0] in SUITES


def resolver(data: str | Path | None = None) -> Resolver:
    """For agent.problem.load_problem: benchmark ids to problems (None for anything else)."""
    def resolve_id(text: str) -> Problem | None:
        return agent_problem(text, data) if is_benchmark_id(text) else None
    return resolve_id
