"""Nodes that check candidates with the real tools: port check + lint, simulation, PPA against the budget.

Each runs only what a candidate has not been through yet (a resumed run does not repeat finished checks).
"""

from __future__ import annotations

import time
from pathlib import Path

from agent import checks
from agent.context import AgentState, RunContext
from agent.rundir import write_json


def lint(state: AgentState, ctx: RunContext) -> dict:
    start = time.monotonic()
    out = []
    for original in state["candidates"]:
        cand = dict(original)
        if cand.get("path") and "lint" not in cand:
            design = Path(cand["path"])
            cand["ports"] = checks.check_ports(design, ctx.problem)
            cand["lint"] = checks.run_lint(design, ctx.problem.top, ctx.options.lint_feedback_chars)
            write_json(design.parent / "lint.json", {"ports": cand["ports"], "lint": cand["lint"]})
        out.append(cand)
    ctx.timed("lint", start)
    return {"candidates": out}


def simulate(state: AgentState, ctx: RunContext) -> dict:
    start = time.monotonic()
    out = []
    for original in state["candidates"]:
        cand = dict(original)
        ready = cand.get("path") and cand["ports"]["ok"] and cand["lint"]["passed"]
        if ready and "sim" not in cand:
            design = Path(cand["path"])
            code = design.read_text()
            job = ctx.problem.self_test_job(code, state["testbench"]) if ctx.self_test else ctx.problem.job(code)
            summary, _ = checks.simulate(job, design.parent / "sim", waves=ctx.options.trace,
                                         timeout_s=None if ctx.problem.official else ctx.options.sim_timeout_s)
            summary["waveform"] = checks.move_waves(summary, design.parent / "waves.vcd")
            cand["sim"] = summary
            write_json(design.parent / "sim.json", summary)
        out.append(cand)
    ctx.timed("simulate", start)
    return {"candidates": out}


def ppa(state: AgentState, ctx: RunContext) -> dict:
    start = time.monotonic()
    budget = ctx.problem.spec.ppa
    out = []
    for original in state["candidates"]:
        cand = dict(original)
        if budget is not None and not budget.empty and (cand.get("sim") or {}).get("passed") and "ppa" not in cand:
            cand["ppa"] = checks.run_ppa(Path(cand["path"]), ctx.problem)
            write_json(Path(cand["path"]).parent / "ppa.json", cand["ppa"])
        out.append(cand)
    ctx.timed("ppa", start)
    return {"candidates": out}
