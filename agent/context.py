"""The graph's state (checkpointed after every node) and its context (everything else a node needs).

State keys are stable: a run checkpointed by an older hwagent resumes with today's nodes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from agent.candidate import Candidate
from agent.feedback import render
from agent.llm import Completion, LLMClient, Message, Request
from agent.llm.client import default_cache_dir
from agent.options import RunOptions
from agent.problem import Problem


class WallBudgetSpent(RuntimeError):
    """`--max-wall` ended while the run waited for the model; finished work is checkpointed."""


class AgentState(TypedDict, total=False):
    iteration: int
    tier: int
    tier_start: int  # iteration at which the current cascade tier took over
    plan: str
    testbench: str | None  # self-written cocotb test module (specs without a testbench)
    tb_feedback: str
    candidates: list[Candidate]
    best: Candidate | None
    feedback: str
    history: list[str]
    usage: dict
    calls: dict[str, int]  # provider calls per cascade tier (a replayed transcript resumes after them)
    tiers: list[dict]
    status: str  # running | passed | budget: ... | stopped: ...
    elapsed_s: float
    iterations_log: list[dict]
    judgements: list[dict]
    trace: dict  # {"key": hash of design + testbench, "data": trace}: the same design is not traced twice


def zero_usage() -> dict:
    return {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}


def initial_state(options: RunOptions) -> AgentState:
    return AgentState(iteration=0, tier=0, tier_start=1, plan="", testbench=None, tb_feedback="", candidates=[],
                      best=None, feedback="", history=[], usage=zero_usage(), calls={},
                      tiers=[{"model": m, "from_iteration": None, "iterations": 0, "prompt_tokens": 0,
                              "completion_tokens": 0, "cost_usd": 0.0, "calls": 0, "solved": False}
                             for m in options.models],
                      status="running", elapsed_s=0.0, iterations_log=[], judgements=[])


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

    @property
    def self_test(self) -> bool:
        return not self.problem.has_testbench

    def model_of(self, state: AgentState) -> str:
        return self.options.models[state.get("tier", 0)]

    def iter_dir(self, iteration: int) -> Path:
        return self.run_dir / f"iter_{iteration:02d}"

    def client(self, state: AgentState) -> LLMClient:
        tier = str(state.get("tier", 0))
        if tier not in self.clients:
            cache = (self.cache_dir or default_cache_dir()) if self.options.cache else None
            client = LLMClient(self.options.models[int(tier)], cache_dir=cache,
                               record_to=self.run_dir / "transcript.jsonl")
            client.seek(state.get("calls", {}).get(tier, 0))
            self.clients[tier] = client
        return self.clients[tier]

    def ask(self, state: AgentState, prompt: str, n: int = 1, what: str = "") -> tuple[Completion, dict]:
        """One LLM exchange with the current tier's model; returns the completion (answers, finish reasons) and
        the state fields it updates (usage, calls, tiers)."""
        client = self.client(state)
        messages = (Message("system", render("system.j2").strip()), Message("user", prompt))
        request = Request(messages, n=n, temperature=self.options.temperature_for(n),
                          max_tokens=self.options.answer_tokens, seed=self.options.seed)
        completion = self._within_wall(state, client, request)
        got = completion.usage
        usage = dict(state.get("usage") or zero_usage())
        usage["prompt_tokens"] += got.prompt_tokens
        usage["completion_tokens"] += got.completion_tokens
        if got.cost_usd is None:
            usage["cost_unknown"] = True
        else:
            usage["cost_usd"] = round(usage["cost_usd"] + got.cost_usd, 6)
        tiers = [dict(t) for t in state.get("tiers", [])]
        tier = tiers[state.get("tier", 0)]
        tier["prompt_tokens"] += got.prompt_tokens
        tier["completion_tokens"] += got.completion_tokens
        tier["cost_usd"] = round(tier["cost_usd"] + (got.cost_usd or 0.0), 6)
        tier["calls"] += 1
        calls = dict(state.get("calls", {})) | {str(state.get("tier", 0)): client.calls}
        self.emit("llm", {"what": what, "model": client.label, "prompt_tokens": got.prompt_tokens,
                          "cached": completion.cached})
        return completion, {"usage": usage, "tiers": tiers, "calls": calls}

    def _within_wall(self, state: AgentState, client: LLMClient, request: Request) -> Completion:
        """The call, abandoned when `max_wall_s` ends first (the SDK's own timeout and retries could take
        minutes); the abandoned call runs on in a daemon thread that dies with the process."""
        if not self.options.max_wall_s:
            return client.complete(request)
        remaining = self.options.max_wall_s - self.elapsed(state)
        answers: queue.Queue = queue.Queue(maxsize=1)

        def call() -> None:
            try:
                answers.put((client.complete(request), None))
            except BaseException as exc:  # noqa: BLE001 -- handed to the waiting thread
                answers.put((None, exc))

        threading.Thread(target=call, daemon=True, name="llm-call").start()
        try:
            completion, error = answers.get(timeout=max(remaining, 0.0))
        except queue.Empty:
            raise WallBudgetSpent(f"budget: {self.options.max_wall_s:.0f} s wall time used "
                                  f"(while waiting for {client.label})") from None
        if error is not None:
            raise error
        return completion

    def elapsed(self, state: AgentState) -> float:
        return state.get("elapsed_s", 0.0) + (time.monotonic() - self.started)

    def timed(self, node: str, start: float) -> None:
        self.timings[node] = self.timings.get(node, 0.0) + time.monotonic() - start
