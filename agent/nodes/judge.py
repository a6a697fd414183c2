"""The judge node (self-written testbenches only): when design and testbench disagree, who is wrong?"""

from __future__ import annotations

import re

from agent.context import AgentState, RunContext
from agent.feedback import mark_drivers, render
from agent.rundir import write_json

_VERDICT = re.compile(r"VERDICT:\s*(DESIGN|TESTBENCH)")


def judge(state: AgentState, ctx: RunContext) -> dict:
    best = state["best"]
    if best["sim"]["reason"] == "blocked":  # the sandbox stopped the testbench itself: no need to ask
        texts, update = [f"{best['sim']['summary']}\nVERDICT: TESTBENCH"], {}
    else:
        prompt = render("judge.j2", spec_text=ctx.problem.prompt, testbench=state["testbench"],
                        design=mark_drivers(best["code"], (state.get("trace") or {}).get("data")),
                        sim_feedback=state["feedback"])
        completion, update = ctx.ask(state, prompt, what="judge")
        texts = completion.texts
    found = _VERDICT.findall(texts[0].upper())
    blame = found[-1] if found else "DESIGN"
    rewrites = sum(1 for j in state.get("judgements", []) if j["iteration"] == state["iteration"]
                   and j["verdict"] == "TESTBENCH")
    if blame == "TESTBENCH" and rewrites >= ctx.options.testbench_rewrites:
        blame = "DESIGN"  # the testbench was already rewritten this iteration: repair the design instead
    judgements = [*state.get("judgements", []), {"iteration": state["iteration"], "verdict": blame,
                                                 "reasoning": texts[0][-1500:]}]
    write_json(ctx.iter_dir(state["iteration"]) / "judge.json", judgements[-1])
    if blame == "DESIGN":
        return update | {"judgements": judgements}
    again = [_unsimulated(c) for c in state["candidates"]]
    if best not in state["candidates"]:
        again.append(_unsimulated(best))
    return update | {"judgements": judgements, "testbench": None, "best": None, "candidates": again,
                     "tb_feedback": texts[0][-2000:]}


def _unsimulated(candidate: dict) -> dict:
    """The candidate without the results of the testbench that was blamed (simulated again with the new one)."""
    return {k: v for k, v in candidate.items() if k not in ("sim", "ppa")}
