"""Nodes that ask the model for text: a design plan, a cocotb testbench (self-test), K candidate designs."""

from __future__ import annotations

import re
import time

from agent.context import AgentState, RunContext, zero_usage
from agent.extract import extract_verilog
from agent.feedback import history_summary, mark_drivers, render
from agent.llm import LLMError

_PYTHON_BLOCK = re.compile(r"```(?:python|py)?[^\n]*\n(.*?)```", re.DOTALL)


def plan(state: AgentState, ctx: RunContext) -> dict:
    if state.get("plan"):
        return {}
    completion, update = ctx.ask(state, render("plan.j2", spec_text=ctx.problem.prompt), what="plan")
    (ctx.run_dir / "plan.md").write_text(completion.texts[0])
    return update | {"plan": completion.texts[0]}


NO_TESTBENCH = "It contained no ```python code block that imports cocotb."


def write_testbench(state: AgentState, ctx: RunContext) -> dict:
    """The model's cocotb testbench; an answer without one is asked again (at most `testbench_rewrites` times),
    each exchange recorded, before the run stops with one error line."""
    problem, update, feedback = ctx.problem, {}, state.get("tb_feedback", "")
    for _ in range(ctx.options.testbench_rewrites + 1):
        prompt = render("testbench.j2", spec_text=problem.prompt, top=problem.top,
                        clock=problem.spec.clock.name if problem.spec.clock else None, feedback=feedback)
        completion, update = ctx.ask(state | update, prompt, what="testbench")
        blocks = [b for b in _PYTHON_BLOCK.findall(completion.texts[0]) if "cocotb" in b]
        if blocks:
            break
        feedback = NO_TESTBENCH
    else:
        raise LLMError("malformed", f"the model wrote no cocotb testbench (no ```python block importing cocotb) "
                                    f"in {ctx.options.testbench_rewrites + 1} answer(s)", ctx.model_of(state))
    source = max(blocks, key=len)
    version = len(list(ctx.run_dir.glob("self_testbench_*.py"))) + 1
    (ctx.run_dir / f"self_testbench_{version}.py").write_text(source)
    return update | {"testbench": source, "tb_feedback": ""}


def generate(state: AgentState, ctx: RunContext) -> dict:
    iteration = state.get("iteration", 0) + 1
    prompt = design_prompt(state, ctx)
    folder = ctx.iter_dir(iteration)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prompt.md").write_text(prompt)
    completion, update = ctx.ask(state, prompt, n=ctx.options.candidates, what="generate")
    start = time.monotonic()
    reasons = completion.finish_reasons or [""] * len(completion.texts)
    candidates = [_candidate(ctx, state, iteration, index, text, reason == "length")
                  for index, (text, reason) in enumerate(zip(completion.texts, reasons))]
    tier = update["tiers"][state.get("tier", 0)]
    tier["iterations"] += 1
    tier["from_iteration"] = tier["from_iteration"] or iteration
    used = update["usage"]["prompt_tokens"] - (state.get("usage") or zero_usage())["prompt_tokens"]
    log = [*state.get("iterations_log", []), {"iteration": iteration, "model": ctx.model_of(state),
                                              "prompt_chars": len(prompt), "prompt_tokens": used}]
    ctx.timed("generate", start)
    return update | {"iteration": iteration, "candidates": candidates, "iterations_log": log}


def design_prompt(state: AgentState, ctx: RunContext) -> str:
    """The spec, the plan, the best design so far with its feedback, and one line per earlier iteration."""
    best = state.get("best")
    shown = ({"iteration": best["iteration"], "code": mark_drivers(best["code"], (state.get("trace") or {}).get(
        "data"))} if best and best.get("code") else None)
    interface_shown = shown is not None and (best.get("ports") or {}).get("ok", False)
    return render("generate.j2", spec_text=ctx.problem.spec_text(interface_shown), plan=state.get("plan", ""),
                  best=shown, feedback=state.get("feedback", ""), top=ctx.problem.top,
                  history=history_summary(state.get("history", []), ctx.options.history_lines,
                                          ctx.options.history_chars))


def _candidate(ctx: RunContext, state: AgentState, iteration: int, index: int, text: str, truncated: bool
               ) -> dict:
    folder = ctx.iter_dir(iteration) / f"cand_{index}"
    folder.mkdir(exist_ok=True)
    (folder / "response.md").write_text(text)
    extraction = extract_verilog(text, ctx.problem.top, truncated=truncated)
    path = None
    if extraction.ok:
        path = folder / "design.v"
        path.write_text(extraction.code)
    return {"iteration": iteration, "index": index, "model": ctx.model_of(state), "code": extraction.code,
            "extract_problem": extraction.problem, "path": str(path) if path else None}
