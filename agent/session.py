"""One agent run on disk: `runs/<id>/` with the spec, per-iteration files, the SQLite checkpoint and the summary.

Layout::

    runs/<id>/run.json            input, options (no keys), created
    runs/<id>/spec.yaml, spec.md  the spec and the Markdown the LLM reads
    runs/<id>/checkpoint.sqlite   LangGraph checkpoints (resume)
    runs/<id>/transcript.jsonl    every LLM exchange (replayable with --llm replay/<path>)
    runs/<id>/iter_NN/prompt.md, feedback.md, rank.json
    runs/<id>/iter_NN/cand_K/response.md, design.v, lint.json, sim.json, ppa.json, trace.json, waves.vcd
    runs/<id>/summary.json, design.v
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from agent.context import WallBudgetSpent
from agent.graph import RunContext, RunOptions, build_graph, initial_state, recursion_limit
from agent.nodes.control import finalize
from agent.options import build_options
from agent.problem import Problem, Resolver, load_problem
from agent.rundir import read_summary, write_summary
from spec_templates.spec import dump_spec

Reviewer = Callable[[dict], dict]  # interrupt payload -> {"action": accept|edit|stop, "feedback": ...}


@dataclass
class Session:
    run_id: str
    run_dir: Path
    problem: Problem
    options: RunOptions
    emit: Callable[[str, dict], None] = lambda node, info: None
    cache_dir: Path | None = None
    context: RunContext = field(init=False)

    def __post_init__(self) -> None:
        self.context = RunContext(self.problem, self.options, self.run_dir, emit=self.emit, cache_dir=self.cache_dir)
        self._conn = sqlite3.connect(self.run_dir / "checkpoint.sqlite", check_same_thread=False)
        self.graph = build_graph(self.context, SqliteSaver(self._conn))
        self.config = {"configurable": {"thread_id": self.run_id}, "recursion_limit": recursion_limit(self.options)}

    def close(self) -> None:
        self._conn.close()

    def state(self) -> dict:
        return dict(self.graph.get_state(self.config).values)

    def finished(self) -> bool:
        snapshot = self.graph.get_state(self.config)
        return bool(snapshot.values) and not snapshot.next

    def drive(self, reviewer: Reviewer | None = None) -> dict:
        """Run (or continue) the graph to its end; returns summary.json's content."""
        snapshot = self.graph.get_state(self.config)
        if not snapshot.values:
            payload = initial_state(self.options)
        elif not snapshot.next:
            return self.summary()
        else:
            payload = self._resume_payload(snapshot, reviewer)
        while True:
            try:
                for update in self.graph.stream(payload, self.config, stream_mode="updates", durability="sync"):
                    for node in update:
                        self.emit("node", {"node": node})
            except WallBudgetSpent as exc:
                return self.write_interrupted(str(exc), status=str(exc))
            snapshot = self.graph.get_state(self.config)
            if not snapshot.next:
                return self.summary()
            payload = self._resume_payload(snapshot, reviewer)

    def _resume_payload(self, snapshot, reviewer: Reviewer | None):
        pending = [i for task in snapshot.tasks for i in task.interrupts]
        if not pending:
            return None  # a stopped or killed run: continue from the last checkpoint
        if reviewer is None:
            return Command(resume={"action": "accept"})
        return Command(resume=reviewer(pending[0].value))

    def summary(self) -> dict:
        """summary.json; written again from the final checkpoint when a kill came between the two."""
        found = read_summary(self.run_dir)
        if found or not self.finished():
            return found
        finalize(self.state(), self.context)
        return read_summary(self.run_dir)

    def write_interrupted(self, error: str, status: str | None = None) -> dict:
        """After an exception (e.g. the provider stayed down) or a spent wall budget: summary of what exists, how
        to continue."""
        state = self.state()
        best = state.get("best")
        if best and best.get("code"):
            (self.run_dir / "design.v").write_text(best["code"])
        summary = {"problem": self.problem.id, "top": self.problem.top, "status": status or f"interrupted: {error}",
                   "passed": False, "iterations": state.get("iteration", 0), "usage": state.get("usage"),
                   "history": state.get("history"), "checked_against": self.problem.checked_against,
                   "benchmark_testbench_in_loop": self.problem.official, "resume": f"hwagent resume {self.run_id}"}
        return write_summary(self.run_dir, summary)


def new_run(input_text: str, options: RunOptions, out_dir: Path, *, resolver: Resolver | None = None,
            data_dir: str | None = None, emit: Callable[[str, dict], None] = lambda node, info: None,
            cache_dir: Path | None = None) -> Session:
    """A new run directory for `input_text` (spec file, or benchmark id that `resolver` knows)."""
    problem = load_problem(input_text, resolver)
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{problem.top}-{secrets.token_hex(2)}"
    run_dir = Path(out_dir) / run_id
    run_dir.mkdir(parents=True)
    source = Path(input_text)
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": run_id, "input": str(source.resolve()) if source.is_file() else input_text,
        "data_dir": data_dir, "options": options.to_dict(), "created": time.time()}, indent=1) + "\n")
    (run_dir / "spec.yaml").write_text(dump_spec(problem.spec))
    (run_dir / "spec.md").write_text(problem.prompt)
    return Session(run_id, run_dir, problem, options, emit=emit, cache_dir=cache_dir)


def find_run(run_id: str, out_dir: Path) -> Path:
    """A run directory from its id (or a path to it)."""
    for candidate in (Path(run_id), Path(out_dir) / run_id):
        if (candidate / "run.json").is_file():
            return candidate
    raise FileNotFoundError(f"no run '{run_id}' in {out_dir} (looked for {Path(out_dir) / run_id}/run.json)")


def run_meta(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "run.json").read_text())


def open_run(run_dir: Path, *, models: list[str] | None = None, resolver: Resolver | None = None,
             emit: Callable[[str, dict], None] = lambda node, info: None, cache_dir: Path | None = None,
             review: bool | None = None) -> Session:
    """Reopen a run for `resume`; `models` may replace the recorded ones (same number of tiers)."""
    meta = run_meta(run_dir)
    options = build_options(meta["options"], f"{run_dir}/run.json")
    if models:
        if len(models) != len(options.models):
            raise ValueError(f"the run has {len(options.models)} model tier(s); --llm/--cascade gave {len(models)}")
        options = options.model_copy(update={"models": models})
    if review is not None:
        options = options.model_copy(update={"review": review})
    problem = load_problem(meta["input"], resolver)
    return Session(meta["run_id"], run_dir, problem, options, emit=emit, cache_dir=cache_dir)
