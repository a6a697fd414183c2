"""The agent loop as a LangGraph graph: plan -> generate(k) -> lint -> simulate -> ppa -> rank -> repair.

State is a plain TypedDict (checkpointed to SQLite after every node, so a killed run resumes where it was).
Only the best candidate, the latest feedback and one line per earlier iteration go back into the prompt,
which keeps the prompt size flat over iterations. Specs without a testbench get a cocotb testbench written
by the agent first, and a judge step decides who is wrong when design and testbench disagree.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from agent import checks
from agent.extract import extract_verilog
from agent.feedback import candidate_feedback, history_summary, mark_drivers, render, verdict
from agent.llm import LLMClient, LLMError, Message, Request
from agent.llm.client import default_cache_dir
from agent.problem import Problem
from agent.trace import trace_mismatch

MAX_TESTBENCH_REWRITES = 2  # per iteration, so a judge that keeps blaming the testbench cannot loop forever
STAGE_RANK = {"passed": 0, "ppa": 1, "mismatch": 2, "sim_error": 3, "ports": 4, "lint": 5, "no_code": 6}


class AgentState(TypedDict, total=False):
    iteration: int
    tier: int
    tier_start: int  # iteration at which the current cascade tier took over
    plan: str
    testbench: str | None  # self-written cocotb test module (specs without a testbench)
    tb_feedback: str
    candidates: list[dict]
    best: dict | None
    feedback: str
    history: list[str]
    usage: dict
    calls: dict[str, int]  # provider calls per cascade tier (a replayed transcript resumes after them)
    tiers: list[dict]
    status: str  # running | passed | budget: ... | stopped
    elapsed_s: float
    iterations_log: list[dict]
    judgements: list[dict]
    trace: dict  # {"key": hash of design + testbench, "data": trace}: the same design is not traced twice


@dataclass
class RunOptions:
    models: list[str]  # one model, or the cascade tiers cheapest first
    candidates: int = 1
    max_iters: int = 8
    max_tokens: int | None = None
    budget_usd: float | None = None
    max_wall_s: float | None = None
    escalate_after: int = 2
    plan: bool = False
    review: bool = False
    trace: bool = True
    temperature: float = 0.2
    answer_tokens: int = 4096
    cache: bool = True
    history_lines: int = 6

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RunContext:
    """Everything the nodes need that is not state: the problem, options, run directory, LLM clients."""

    problem: Problem
    options: RunOptions
    run_dir: Path
    emit: Callable[[str, dict], None] = lambda node, info: None
    cache_dir: Path | None = None
    clients: dict[str, LLMClient] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)  # non-LLM seconds per node (benchmarks)

    def client(self, state: AgentState) -> LLMClient:
        tier = str(state.get("tier", 0))
        if tier not in self.clients:
            cache = (self.cache_dir or default_cache_dir()) if self.options.cache else None
            client = LLMClient(self.options.models[int(tier)], cache_dir=cache,
                               record_to=self.run_dir / "transcript.jsonl")
            client.seek(state.get("calls", {}).get(tier, 0))
            self.clients[tier] = client
        return self.clients[tier]

    def ask(self, state: AgentState, prompt: str, n: int = 1, what: str = "") -> tuple[list[str], dict]:
        """One LLM exchange with the current tier's model; returns the answers and the state fields it
        updates (usage, calls, tiers)."""
        client = self.client(state)
        messages = (Message("system", render("system.j2").strip()), Message("user", prompt))
        request = Request(messages, n=n, temperature=self.options.temperature if n == 1 else max(
            self.options.temperature, 0.7), max_tokens=self.options.answer_tokens)
        completion = client.complete(request)
        usage = dict(state.get("usage") or _zero_usage())
        usage["prompt_tokens"] += completion.usage.prompt_tokens
        usage["completion_tokens"] += completion.usage.completion_tokens
        if completion.usage.cost_usd is None:
            usage["cost_unknown"] = True
        else:
            usage["cost_usd"] = round(usage["cost_usd"] + completion.usage.cost_usd, 6)
        tiers = [dict(t) for t in state.get("tiers", [])]
        tier = tiers[state.get("tier", 0)]
        tier["prompt_tokens"] += completion.usage.prompt_tokens
        tier["completion_tokens"] += completion.usage.completion_tokens
        tier["cost_usd"] = round(tier["cost_usd"] + (completion.usage.cost_usd or 0.0), 6)
        tier["calls"] += 1
        calls = dict(state.get("calls", {})) | {str(state.get("tier", 0)): client.calls}
        self.emit("llm", {"what": what, "model": client.label, "prompt_tokens": completion.usage.prompt_tokens,
                          "cached": completion.cached})
        return completion.texts, {"usage": usage, "tiers": tiers, "calls": calls}

    def elapsed(self, state: AgentState) -> float:
        return state.get("elapsed_s", 0.0) + (time.monotonic() - self.started)

    def timed(self, node: str, start: float) -> None:
        self.timings[node] = self.timings.get(node, 0.0) + time.monotonic() - start


def _zero_usage() -> dict:
    return {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}


def initial_state(options: RunOptions) -> AgentState:
    return AgentState(iteration=0, tier=0, tier_start=1, plan="", testbench=None, tb_feedback="", candidates=[],
                      best=None, feedback="", history=[], usage=_zero_usage(), calls={},
                      tiers=[{"model": m, "from_iteration": None, "iterations": 0, "prompt_tokens": 0,
                              "completion_tokens": 0, "cost_usd": 0.0, "calls": 0, "solved": False}
                             for m in options.models],
                      status="running", elapsed_s=0.0, iterations_log=[], judgements=[])


def candidate_key(candidate: dict) -> tuple:
    """Ranking: passes first, then fewer mismatches, then fewer lint warnings, then PPA against budget."""
    stage = candidate_stage(candidate)
    sim = candidate.get("sim") or {}
    mismatches = checks.mismatch_count(sim) if stage == "mismatch" else 0
    warnings = (candidate.get("lint") or {}).get("warnings", 0)
    overshoot = (candidate.get("ppa") or {}).get("overshoot_pct", 0.0)
    area = ((candidate.get("ppa") or {}).get("figures") or {}).get("area_um2") or 0.0
    return (STAGE_RANK[stage], mismatches, warnings, overshoot, area)


def candidate_stage(candidate: dict) -> str:
    if candidate.get("code") is None:
        return "no_code"
    if not (candidate.get("ports") or {}).get("ok", True):
        return "ports"
    if not (candidate.get("lint") or {}).get("passed", True):
        return "lint"
    sim = candidate.get("sim")
    if sim is None or not sim["passed"]:
        return "mismatch" if sim and sim["reason"] == "mismatch" else "sim_error"
    if (candidate.get("ppa") or {}).get("violations") or (candidate.get("ppa") or {}).get("error"):
        return "ppa"
    return "passed"


def _iter_dir(ctx: RunContext, iteration: int) -> Path:
    return ctx.run_dir / f"iter_{iteration:02d}"


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


# --- nodes -------------------------------------------------------------------------------------------
def build_graph(ctx: RunContext, checkpointer=None):
    problem, options = ctx.problem, ctx.options
    self_test = not problem.has_testbench

    def model_of(state: AgentState) -> str:
        return options.models[state.get("tier", 0)]

    def plan(state: AgentState) -> dict:
        if state.get("plan"):
            return {}
        texts, update = ctx.ask(state, render("plan.j2", spec_text=problem.prompt), what="plan")
        (ctx.run_dir / "plan.md").write_text(texts[0])
        return update | {"plan": texts[0]}

    def write_testbench(state: AgentState) -> dict:
        prompt = render("testbench.j2", spec_text=problem.prompt, top=problem.top,
                        clock=problem.spec.clock.name if problem.spec.clock else None,
                        feedback=state.get("tb_feedback", ""))
        texts, update = ctx.ask(state, prompt, what="testbench")
        blocks = re.findall(r"```(?:python|py)?[^\n]*\n(.*?)```", texts[0], re.DOTALL)
        source = max(blocks, key=len) if blocks else None
        version = len(list(ctx.run_dir.glob("self_testbench_*.py"))) + 1
        if source is None or "cocotb" not in source:
            raise LLMError("malformed", "the model wrote no cocotb testbench (no ```python block importing cocotb)",
                           model_of(state))
        (ctx.run_dir / f"self_testbench_{version}.py").write_text(source)
        return update | {"testbench": source, "tb_feedback": ""}

    def generate(state: AgentState) -> dict:
        iteration = state.get("iteration", 0) + 1
        best = state.get("best")
        shown = ({"iteration": best["iteration"], "code": mark_drivers(best["code"], (state.get("trace") or {}).get(
            "data"))} if best and best.get("code") else None)
        interface_shown = shown is not None and (best.get("ports") or {}).get("ok", False)
        prompt = render("generate.j2", spec_text=problem.spec_text(interface_shown), plan=state.get("plan", ""),
                        best=shown, feedback=state.get("feedback", ""), top=problem.top,
                        history=history_summary(state.get("history", []), options.history_lines))
        folder = _iter_dir(ctx, iteration)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "prompt.md").write_text(prompt)
        texts, update = ctx.ask(state, prompt, n=options.candidates, what="generate")
        start = time.monotonic()
        candidates = []
        for index, text in enumerate(texts):
            cand_dir = folder / f"cand_{index}"
            cand_dir.mkdir(exist_ok=True)
            (cand_dir / "response.md").write_text(text)
            extraction = extract_verilog(text, problem.top)
            path = None
            if extraction.ok:
                path = cand_dir / "design.v"
                path.write_text(extraction.code)
            candidates.append({"iteration": iteration, "index": index, "model": model_of(state),
                               "code": extraction.code, "extract_problem": extraction.problem,
                               "path": str(path) if path else None})
        tiers = update["tiers"]
        tier = tiers[state.get("tier", 0)]
        tier["iterations"] += 1
        tier["from_iteration"] = tier["from_iteration"] or iteration
        log = list(state.get("iterations_log", [])) + [{
            "iteration": iteration, "model": model_of(state), "prompt_chars": len(prompt),
            "prompt_tokens": update["usage"]["prompt_tokens"] - (state.get("usage") or _zero_usage())[
                "prompt_tokens"]}]
        ctx.timed("generate", start)
        return update | {"iteration": iteration, "candidates": candidates, "iterations_log": log}

    def lint_node(state: AgentState) -> dict:
        start = time.monotonic()
        out = []
        for cand in state["candidates"]:
            cand = dict(cand)
            if cand.get("path") and "lint" not in cand:
                design = Path(cand["path"])
                cand["ports"] = checks.check_ports(design, problem)
                cand["lint"] = checks.run_lint(design, problem.top)
                _write_json(design.parent / "lint.json", {"ports": cand["ports"], "lint": cand["lint"]})
            out.append(cand)
        ctx.timed("lint", start)
        return {"candidates": out}

    def simulate_node(state: AgentState) -> dict:
        start = time.monotonic()
        out = []
        for cand in state["candidates"]:
            cand = dict(cand)
            ready = cand.get("path") and cand["ports"]["ok"] and cand["lint"]["passed"]
            if ready and "sim" not in cand:
                design = Path(cand["path"])
                summary, _ = checks.simulate(design, problem, design.parent / "sim", waves=options.trace,
                                             tb_source=state.get("testbench") if self_test else None)
                summary["waveform"] = checks.move_waves(summary, design.parent / "waves.vcd")
                cand["sim"] = summary
                _write_json(design.parent / "sim.json", summary)
            out.append(cand)
        ctx.timed("simulate", start)
        return {"candidates": out}

    def ppa_node(state: AgentState) -> dict:
        start = time.monotonic()
        budget = problem.spec.ppa
        out = []
        for cand in state["candidates"]:
            cand = dict(cand)
            if budget is not None and not budget.empty and (cand.get("sim") or {}).get("passed") \
                    and "ppa" not in cand:
                cand["ppa"] = checks.run_ppa(Path(cand["path"]), problem)
                _write_json(Path(cand["path"]).parent / "ppa.json", cand["ppa"])
            out.append(cand)
        ctx.timed("ppa", start)
        return {"candidates": out}

    def rank(state: AgentState) -> dict:
        start = time.monotonic()
        ranked = sorted(state["candidates"], key=candidate_key)
        top_now = ranked[0]
        best = state.get("best")
        if best is None or best.get("code") is None or candidate_key(top_now) <= candidate_key(best):
            best = top_now
        trace, trace_key = None, ""
        if candidate_stage(best) == "mismatch":
            trace_key = hashlib.sha256(f"{best['code']}\0{state.get('testbench') or ''}".encode()).hexdigest()
            previous = state.get("trace") or {}
            trace = previous.get("data") if previous.get("key") == trace_key else diagnose(best)
        feedback = candidate_feedback(_with_traced_values(best, trace), problem.top,
                                      problem.spec.ppa.library if problem.spec.ppa else "osu018", trace=trace,
                                      self_test=self_test)
        if candidate_stage(top_now) == "no_code" and best is top_now:
            best = None  # nothing usable yet: next prompt shows the no-code feedback only
        folder = _iter_dir(ctx, state["iteration"])
        (folder / "feedback.md").write_text(feedback)
        _write_json(folder / "rank.json", [{"index": c["index"], "verdict": verdict(c), "key": candidate_key(c)}
                                           for c in ranked])
        line = f"iteration {state['iteration']}: {verdict(top_now)}"
        if top_now.get("extract_problem") and top_now.get("code") is None:
            line += f" ({top_now['extract_problem']})"
        history = list(state.get("history", [])) + [line]
        status = "running"
        if best is not None and candidate_stage(best) == "passed":
            status = "passed"
            tiers = [dict(t) for t in state["tiers"]]
            tiers[state.get("tier", 0)]["solved"] = True
        else:
            tiers = state["tiers"]
        ctx.timed("rank", start)
        ctx.emit("rank", {"iteration": state["iteration"], "verdict": verdict(top_now),
                          "best": verdict(best) if best else "no code", "usage": state.get("usage"),
                          "model": model_of(state)})
        return {"best": best, "feedback": feedback, "history": history, "status": status, "tiers": tiers,
                "trace": {"key": trace_key, "data": trace} if trace is not None else {},
                "elapsed_s": ctx.elapsed(state), "candidates": state["candidates"]}

    def diagnose(best: dict) -> dict | None:
        """Trace the first mismatching output of the best failing candidate in the waves of its simulation."""
        rows = (best.get("sim") or {}).get("rows") or []
        if not options.trace or not rows:
            return None
        design = Path(best["path"])
        waves = best["sim"].get("waveform")
        first = rows[0]
        signal = first["signal"]
        expected = {r["time_ps"] * 1000: r["expected"] for r in rows
                    if r["signal"] == signal and r.get("time_ps") is not None and r.get("expected") is not None}
        first_row = {}
        if problem.native is not None and not expected and waves and first.get("time_ps") is not None:
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
        _write_json(design.parent / "trace.json", data)
        return data

    def judge(state: AgentState) -> dict:
        best = state["best"]
        if best["sim"]["reason"] == "blocked":  # the sandbox stopped the testbench itself: no need to ask
            texts, update = [f"{best['sim']['summary']}\nVERDICT: TESTBENCH"], {}
        else:
            prompt = render("judge.j2", spec_text=problem.prompt, testbench=state["testbench"],
                            design=mark_drivers(best["code"], (state.get("trace") or {}).get("data")),
                            sim_feedback=state["feedback"])
            texts, update = ctx.ask(state, prompt, what="judge")
        found = re.findall(r"VERDICT:\s*(DESIGN|TESTBENCH)", texts[0].upper())
        blame = found[-1] if found else "DESIGN"
        rewrites = sum(1 for j in state.get("judgements", []) if j["iteration"] == state["iteration"]
                       and j["verdict"] == "TESTBENCH")
        if blame == "TESTBENCH" and rewrites >= MAX_TESTBENCH_REWRITES:
            blame = "DESIGN"  # the testbench was already rewritten this iteration: repair the design instead
        judgements = list(state.get("judgements", [])) + [{"iteration": state["iteration"], "verdict": blame,
                                                          "reasoning": texts[0][-1500:]}]
        _write_json(_iter_dir(ctx, state["iteration"]) / "judge.json", judgements[-1])
        if blame == "TESTBENCH":
            again = [{k: v for k, v in c.items() if k not in ("sim", "ppa")} for c in state["candidates"]]
            if best not in state["candidates"]:
                again.append({k: v for k, v in best.items() if k not in ("sim", "ppa")})
            return update | {"judgements": judgements, "testbench": None, "best": None, "candidates": again,
                             "tb_feedback": texts[0][-2000:]}
        return update | {"judgements": judgements}

    def repair(state: AgentState) -> dict:
        update: dict = {}
        if options.review:
            answer = interrupt({"iteration": state["iteration"], "best": verdict(state["best"]) if state.get(
                "best") else "no code", "feedback": state["feedback"]})
            action = (answer or {}).get("action", "accept")
            if action == "stop":
                return {"status": "stopped: by reviewer"}
            if action == "edit":
                update["feedback"] = answer.get("feedback", state["feedback"])
                (_iter_dir(ctx, state["iteration"]) / "feedback.md").write_text(update["feedback"])
        tier, iteration = state.get("tier", 0), state["iteration"]
        best = state.get("best")
        self_tests_fail = best is None or candidate_stage(best) not in ("passed", "ppa")  # lint or simulation
        if tier + 1 < len(options.models) and self_tests_fail and \
                iteration - state.get("tier_start", 1) + 1 >= options.escalate_after:
            update |= {"tier": tier + 1, "tier_start": iteration + 1}
            ctx.emit("escalate", {"from": options.models[tier], "to": options.models[tier + 1],
                                  "iteration": iteration})
        return update

    def finalize(state: AgentState) -> dict:
        status = state.get("status", "running")
        if status == "running":
            status = budget_exhausted(state) or "stopped"
        best = state.get("best")
        if best and best.get("code"):
            (ctx.run_dir / "design.v").write_text(best["code"])
        summary = {
            "problem": problem.id, "top": problem.top, "status": status,
            "passed": status == "passed", "iterations": state.get("iteration", 0),
            "best": {"iteration": best["iteration"], "candidate": best["index"], "model": best["model"],
                     "verdict": verdict(best), "sim": best.get("sim"), "ppa": best.get("ppa")} if best else None,
            "checked_against": ("a testbench written by the agent from the spec (self-test only; no trusted "
                                "testbench)") if self_test else "the spec's testbench",
            "usage": state.get("usage"), "tiers": state.get("tiers"), "history": state.get("history"),
            "iterations_log": state.get("iterations_log"), "judgements": state.get("judgements"),
            "elapsed_s": round(ctx.elapsed(state), 2), "models": options.models,
        }
        _write_json(ctx.run_dir / "summary.json", summary)
        return {"status": status, "elapsed_s": ctx.elapsed(state)}

    def budget_exhausted(state: AgentState) -> str | None:
        usage = state.get("usage") or _zero_usage()
        if state.get("iteration", 0) >= options.max_iters:
            return f"budget: {options.max_iters} iterations used"
        if options.max_tokens and usage["prompt_tokens"] + usage["completion_tokens"] >= options.max_tokens:
            return f"budget: {options.max_tokens} tokens used"
        if options.budget_usd is not None and usage["cost_usd"] >= options.budget_usd:
            return f"budget: ${options.budget_usd} spent"
        if options.max_wall_s and ctx.elapsed(state) >= options.max_wall_s:
            return f"budget: {options.max_wall_s:.0f} s wall time used"
        return None

    # --- edges ---------------------------------------------------------------------------------------
    def after_start(state: AgentState) -> str:
        if options.plan and not state.get("plan"):
            return "plan"
        return "write_testbench" if self_test and not state.get("testbench") else "generate"

    def after_plan(state: AgentState) -> str:
        return "write_testbench" if self_test and not state.get("testbench") else "generate"

    def after_testbench(state: AgentState) -> str:
        return "simulate" if state.get("candidates") else "generate"

    def after_rank(state: AgentState) -> str:
        if state["status"] == "passed" or budget_exhausted(state):
            return "finalize"
        best = state.get("best")
        sim = (best or {}).get("sim") or {}
        if self_test and best and (candidate_stage(best) == "mismatch" or sim.get("reason") == "blocked"):
            return "judge"
        return "repair"

    def after_judge(state: AgentState) -> str:
        if state.get("testbench") is None:
            return "write_testbench"
        return "repair"

    def after_repair(state: AgentState) -> str:
        return "finalize" if state.get("status", "").startswith("stopped") else "generate"

    graph = StateGraph(AgentState)
    for name, node in (("plan", plan), ("write_testbench", write_testbench), ("generate", generate),
                       ("lint", lint_node), ("simulate", simulate_node), ("ppa", ppa_node),
                       ("rank", rank), ("judge", judge), ("repair", repair), ("finalize", finalize)):
        graph.add_node(name, node)
    graph.add_conditional_edges(START, after_start, ["plan", "write_testbench", "generate"])
    graph.add_conditional_edges("plan", after_plan, ["write_testbench", "generate"])
    graph.add_conditional_edges("write_testbench", after_testbench, ["simulate", "generate"])
    graph.add_edge("generate", "lint")
    graph.add_edge("lint", "simulate")
    graph.add_edge("simulate", "ppa")
    graph.add_edge("ppa", "rank")
    graph.add_conditional_edges("rank", after_rank, ["finalize", "judge", "repair"])
    graph.add_conditional_edges("judge", after_judge, ["write_testbench", "repair"])
    graph.add_conditional_edges("repair", after_repair, ["finalize", "generate"])
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)


def recursion_limit(options: RunOptions) -> int:
    """Supersteps: generate, lint, simulate, ppa, rank, repair per iteration, plus judge, testbench, simulate,
    ppa, rank for each of at most MAX_TESTBENCH_REWRITES testbench rewrites, plus start and finalize."""
    return (6 + 5 * (MAX_TESTBENCH_REWRITES + 1)) * options.max_iters + 12


def _testbench_values(waves: Path, signal: str, time_ps: int) -> tuple[str | None, str | None]:
    """VerilogEval testbenches carry `<signal>_ref` and `<signal>_dut`: expected and actual value at a time."""
    from agent.vcd import Waveform, show

    wave = Waveform(waves, keep=lambda name: name.endswith((f".{signal}_ref", f".{signal}_dut")))
    at = wave.from_fs(time_ps * 1000)
    values = {}
    for var in wave.vars.values():
        values[var.name.rsplit("_", 1)[-1]] = show(var.at(at), var.width)
    return values.get("ref"), values.get("dut")


def _with_traced_values(candidate: dict, trace: dict | None) -> dict:
    """Fill the first mismatch row's expected/got from the waveform when the testbench did not print them."""
    fill = (trace or {}).get("first_row") or {}
    rows = (candidate.get("sim") or {}).get("rows") or []
    if not fill or not rows or rows[0].get("expected") is not None:
        return candidate
    first = rows[0] | {k: v for k, v in fill.items() if v is not None}
    return candidate | {"sim": candidate["sim"] | {"rows": [first, *rows[1:]]}}
