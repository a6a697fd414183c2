"""Control nodes and routers: repair (review pause, cascade escalation), finalize (summary.json), the budget."""

from __future__ import annotations

from langgraph.types import interrupt

from agent.candidate import stage, verdict
from agent.context import AgentState, RunContext, zero_usage
from agent.rundir import write_summary


def repair(state: AgentState, ctx: RunContext) -> dict:
    update: dict = {}
    if ctx.options.review:
        answer = interrupt({"iteration": state["iteration"], "best": verdict(state["best"]) if state.get(
            "best") else "no code", "feedback": state["feedback"]})
        action = (answer or {}).get("action", "accept")
        if action == "stop":
            return {"status": "stopped: by reviewer"}
        if action == "edit":
            update["feedback"] = answer.get("feedback", state["feedback"])
            (ctx.iter_dir(state["iteration"]) / "feedback.md").write_text(update["feedback"])
    return update | _escalation(state, ctx)


def _escalation(state: AgentState, ctx: RunContext) -> dict:
    """The next cascade tier, when this one has had its iterations and lint or simulation still fail."""
    tier, iteration, models = state.get("tier", 0), state["iteration"], ctx.options.models
    best = state.get("best")
    self_tests_fail = best is None or stage(best) not in ("passed", "ppa")
    if tier + 1 >= len(models) or not self_tests_fail or \
            iteration - state.get("tier_start", 1) + 1 < ctx.options.escalate_after:
        return {}
    ctx.emit("escalate", {"from": models[tier], "to": models[tier + 1], "iteration": iteration})
    return {"tier": tier + 1, "tier_start": iteration + 1}


def finalize(state: AgentState, ctx: RunContext) -> dict:
    status = state.get("status", "running")
    if status == "running":
        status = budget_exhausted(state, ctx) or "stopped"
    best = state.get("best")
    if best and best.get("code"):
        (ctx.run_dir / "design.v").write_text(best["code"])
    write_summary(ctx.run_dir, summary(state, ctx, status))
    return {"status": status, "elapsed_s": ctx.elapsed(state)}


def summary(state: AgentState, ctx: RunContext, status: str) -> dict:
    """summary.json: the outcome, what the verdict was checked against, usage per tier, the history."""
    best, problem = state.get("best"), ctx.problem
    record = {
        "problem": problem.id, "top": problem.top, "status": status, "passed": status == "passed",
        "iterations": state.get("iteration", 0),
        "best": {"iteration": best["iteration"], "candidate": best["index"], "model": best["model"],
                 "verdict": verdict(best), "sim": best.get("sim"), "ppa": best.get("ppa")} if best else None,
        "checked_against": problem.checked_against, "benchmark_testbench_in_loop": problem.official,
        "usage": state.get("usage"), "tiers": state.get("tiers"), "history": state.get("history"),
        "iterations_log": state.get("iterations_log"), "judgements": state.get("judgements"),
        "elapsed_s": round(ctx.elapsed(state), 2), "models": ctx.options.models,
    }
    if problem.official:
        record["official_verdict"] = ((best or {}).get("sim") or {}).get("official")
    return record


def budget_exhausted(state: AgentState, ctx: RunContext) -> str | None:
    options, usage = ctx.options, state.get("usage") or zero_usage()
    if state.get("iteration", 0) >= options.max_iters:
        return f"budget: {options.max_iters} iterations used"
    if options.max_tokens and usage["prompt_tokens"] + usage["completion_tokens"] >= options.max_tokens:
        return f"budget: {options.max_tokens} tokens used"
    if options.budget_usd is not None and usage["cost_usd"] >= options.budget_usd:
        return f"budget: ${options.budget_usd} spent"
    if options.max_wall_s and ctx.elapsed(state) >= options.max_wall_s:
        return f"budget: {options.max_wall_s:.0f} s wall time used"
    return None


# --- routers ---------------------------------------------------------------------------------------------
def after_start(state: AgentState, ctx: RunContext) -> str:
    if ctx.options.plan and not state.get("plan"):
        return "plan"
    return after_plan(state, ctx)


def after_plan(state: AgentState, ctx: RunContext) -> str:
    return "write_testbench" if ctx.self_test and not state.get("testbench") else "generate"


def after_testbench(state: AgentState, ctx: RunContext) -> str:
    return "simulate" if state.get("candidates") else "generate"


def after_rank(state: AgentState, ctx: RunContext) -> str:
    if state["status"] == "passed" or budget_exhausted(state, ctx):
        return "finalize"
    best = state.get("best")
    sim = (best or {}).get("sim") or {}
    if ctx.self_test and best and (stage(best) == "mismatch" or sim.get("reason") == "blocked"):
        return "judge"
    return "repair"


def after_judge(state: AgentState, ctx: RunContext) -> str:
    return "write_testbench" if state.get("testbench") is None else "repair"


def after_repair(state: AgentState, ctx: RunContext) -> str:
    return "finalize" if state.get("status", "").startswith("stopped") else "generate"
