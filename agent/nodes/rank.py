"""The rank node: order this iteration's candidates, keep the best so far, trace its first mismatch, write the
feedback the next prompt carries."""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict
from pathlib import Path

from agent.candidate import Candidate, rank_key, stage, verdict
from agent.context import AgentState, RunContext
from agent.feedback import candidate_feedback
from agent.rundir import write_json
from agent.trace import trace_mismatch
from agent.vcd import Waveform, show


def rank(state: AgentState, ctx: RunContext) -> dict:
    start = time.monotonic()
    ranked = sorted(state["candidates"], key=rank_key)
    top_now, best = ranked[0], state.get("best")
    if best is None or best.get("code") is None or rank_key(top_now) <= rank_key(best):
        best = top_now
    trace, trace_key = None, ""
    if stage(best) == "mismatch":
        trace_key = hashlib.sha256(f"{best['code']}\0{state.get('testbench') or ''}".encode()).hexdigest()
        previous = state.get("trace") or {}
        trace = previous.get("data") if previous.get("key") == trace_key else diagnose(best, ctx)
    problem = ctx.problem
    feedback = candidate_feedback(_with_traced_values(best, trace), problem.top,
                                  problem.spec.ppa.library if problem.spec.ppa else "osu018", trace=trace,
                                  self_test=ctx.self_test)
    if stage(top_now) == "no_code" and best is top_now:
        best = None  # nothing usable yet: next prompt shows the no-code feedback only
    folder = ctx.iter_dir(state["iteration"])
    (folder / "feedback.md").write_text(feedback)
    write_json(folder / "rank.json", [{"index": c["index"], "verdict": verdict(c), "key": rank_key(c)}
                                      for c in ranked])
    line = f"iteration {state['iteration']}: {verdict(top_now)}"
    tiers, status = state["tiers"], "running"
    if best is not None and stage(best) == "passed":
        status = "passed"
        tiers = [dict(t) for t in tiers]
        tiers[state.get("tier", 0)]["solved"] = True
    ctx.timed("rank", start)
    ctx.emit("rank", {"iteration": state["iteration"], "verdict": verdict(top_now),
                      "best": verdict(best) if best else "no code", "usage": state.get("usage"),
                      "model": ctx.model_of(state)})
    return {"best": best, "feedback": feedback, "history": [*state.get("history", []), line], "status": status,
            "tiers": tiers, "trace": {"key": trace_key, "data": trace} if trace is not None else {},
            "elapsed_s": ctx.elapsed(state), "candidates": state["candidates"]}


def diagnose(best: Candidate, ctx: RunContext) -> dict | None:
    """Trace the first mismatching output of the best failing candidate in the waves of its simulation."""
    rows = (best.get("sim") or {}).get("rows") or []
    if not ctx.options.trace or not rows:
        return None
    problem, design, waves = ctx.problem, Path(best["path"]), best["sim"].get("waveform")
    first = rows[0]
    signal = first["signal"]
    expected = {r["time_ps"] * 1000: r["expected"] for r in rows
                if r["signal"] == signal and r.get("time_ps") is not None and r.get("expected") is not None}
    first_row = {}
    if problem.testbench_kind == "native" and not expected and waves and first.get("time_ps") is not None:
        want, got = _testbench_values(Path(waves), signal, first["time_ps"])
        expected = {first["time_ps"] * 1000: want} if want is not None else {}
        first_row = {"expected": want, "got": got}
    signed = {p.name for p in problem.spec.ports if p.signed}
    clock = problem.spec.clock.name if problem.spec.clock else None
    skip = {problem.spec.reset.name} if problem.spec.reset else set()
    try:
        trace = trace_mismatch(design, problem.top, signal, Path(waves) if waves else None,
                               first["time_ps"] * 1000 if first.get("time_ps") is not None else None,
                               clock, signed, expected, skip=skip)
    except Exception as exc:  # noqa: BLE001 -- tracing helps the model, it never stops the run
        return {"signal": signal, "drivers": [], "assignments": [], "table": [], "columns": [],
                "method": "none", "note": f"tracing failed: {type(exc).__name__}: {exc}"}
    data = asdict(trace) | {"first_row": first_row}
    write_json(design.parent / "trace.json", data)
    return data


def _testbench_values(waves: Path, signal: str, time_ps: int) -> tuple[str | None, str | None]:
    """VerilogEval testbenches carry `<signal>_ref` and `<signal>_dut`: expected and actual value at a time."""
    wave = Waveform(waves, keep=lambda name: name.endswith((f".{signal}_ref", f".{signal}_dut")))
    at = wave.from_fs(time_ps * 1000)
    values = {var.name.rsplit("_", 1)[-1]: show(var.at(at), var.width) for var in wave.vars.values()}
    return values.get("ref"), values.get("dut")


def _with_traced_values(candidate: Candidate, trace: dict | None) -> Candidate:
    """Fill the first mismatch row's expected/got from the waveform when the testbench did not print them."""
    fill = (trace or {}).get("first_row") or {}
    rows = (candidate.get("sim") or {}).get("rows") or []
    if not fill or not rows or rows[0].get("expected") is not None:
        return candidate
    first = rows[0] | {k: v for k, v in fill.items() if v is not None}
    return candidate | {"sim": candidate["sim"] | {"rows": [first, *rows[1:]]}}
