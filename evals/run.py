"""`hwagent eval run`: a model solves a whole suite, every sample judged officially, resumable per sample.

    settings = EvalSettings(suite="verilog-eval-v2:spec-to-rtl", models=["openai/gpt-4o"], solver="single")
    summary = run_eval(settings, Path("out"), ks=[1, 5, 10], jobs=4)

The eval dir holds eval_run.json (the settings; a re-run must use the same ones), results.jsonl (one row per
(problem, sample), flushed and fsync'd by the one writer), samples.jsonl (human-eval `task_id` + `completion`:
`hwagent eval score` re-scores them), summary.json and runs/ (per sample: the agent's run dir, or the single
generation's transcript and answer). `kill -9` at any moment loses no finished sample: the same command skips
them (and the LLM cache answers a repeated request without a call).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.llm import LLMError, require_credentials
from agent.llm.client import concurrency_limit, parse_model
from agent.llm.pricing import load_overrides, price
from evals import executors
from evals.provenance import provenance
from evals.score import SUMMARY, read_results, summarize
from evals.solvers import Outcome, solver_class
from evals.suites import Suite, get_suite

SETTINGS_FILE = "eval_run.json"
RESULTS = "results.jsonl"
SAMPLES = "samples.jsonl"
VERDICT_FIELDS = ("task_id", "completion_id", "key", "completion", "passed", "result", "reason", "detail",
                  "mismatches", "tb_samples", "erratum", "iterations", "solved_at", "model", "tier")


class EvalRunError(ValueError):
    """Settings that cannot run (unknown problems, a mismatching eval dir, an unpriced budget); one line."""


class EvalSettings(BaseModel):
    """What decides the samples of an eval run (a resumed run must repeat them exactly)."""

    model_config = ConfigDict(extra="forbid")

    suite: str
    models: list[str] = Field(min_length=1)
    solver: Literal["single", "agent"] = "single"
    samples: int = Field(1, ge=1)
    problems: list[str] = Field(default_factory=list)  # task ids; empty: the whole suite
    max_iters: int = Field(4, ge=1)
    feedback: Literal["oracle", "self"] = "oracle"
    escalate_after: int = Field(2, ge=1)
    examples: int = Field(0, ge=0, le=4)
    rules: bool = False
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    answer_tokens: int = Field(1024, ge=16)
    cache: bool = True
    data: str | None = None

    @property
    def setting(self) -> str:
        """What the model saw of the benchmark's testbench, for every summary and report."""
        if self.solver == "single":
            return "single generation: no testbench feedback"
        if self.feedback == "oracle":
            return "agent with the benchmark's own testbench and judge in the loop (oracle feedback)"
        return "agent with self-written testbenches only (self feedback); final designs judged officially"


def select_problems(suite: Suite, patterns: list[str]) -> list[str]:
    """Task ids matching globs (or ids listed in files: one per line); every pattern must match."""
    ids = [p.id for p in suite.problems()]
    if not patterns:
        return ids
    chosen: list[str] = []
    for pattern in patterns:
        hits = [i for i in ids if fnmatch.fnmatchcase(i, pattern)]
        if not hits:
            near = [i for i in ids if pattern.lower() in i.lower()][:3]
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise EvalRunError(f"{suite.id} has no problem matching {pattern!r}{hint}")
        chosen += [i for i in hits if i not in chosen]
    return [i for i in ids if i in chosen]


def read_problem_patterns(values: list[str]) -> list[str]:
    """`--problems` values: globs, or files holding one task id / glob per line."""
    patterns = []
    for value in values:
        path = Path(value)
        if path.is_file():
            patterns += [line.strip() for line in path.read_text().splitlines() if line.strip()]
        else:
            patterns.append(value)
    return patterns


def check_models(settings: EvalSettings, budget_usd: float | None) -> None:
    """Keys and servers are there; a budget needs a price for every model."""
    for model in settings.models:
        try:
            require_credentials(model)
        except LLMError as exc:
            raise EvalRunError(exc.message) from None
        ref = parse_model(model)
        if budget_usd is not None and price(ref.price_key, ref.model, load_overrides()) is None:
            raise EvalRunError(f"--budget-usd cannot be enforced: no price is known for {model}; give one in a "
                               f"HWAGENT_PRICES file ({{{ref.model}: {{input: USD/Mtok, output: USD/Mtok}}}})")


def prepare(out: Path, settings: EvalSettings) -> None:
    """Create the eval dir, or check that an existing one holds a run of the same settings."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / SETTINGS_FILE
    if path.is_file():
        try:
            earlier = EvalSettings.model_validate_json(path.read_text())
        except ValidationError:
            raise EvalRunError(f"{path} is not an eval run's settings file; use another --out") from None
        changed = [k for k in EvalSettings.model_fields if getattr(earlier, k) != getattr(settings, k)]
        if changed:
            raise EvalRunError(f"{out} holds a run with other settings ({', '.join(changed)}): resume it with the "
                               f"same options or choose another --out")
    else:
        path.write_text(settings.model_dump_json(indent=1) + "\n")


def solve_unit(payload: str, task_id: str, sample: int) -> dict:
    """One (problem, sample) in a worker process: the result row (UnitError when it cannot finish)."""
    _, suite, solver = _solver(payload)
    outcome = solver.solve(suite.problem(task_id), sample)
    return result_row(suite, task_id, sample, outcome, json.loads(payload)["unit_root"])


@functools.cache
def _solver(payload: str):
    data = json.loads(payload)
    settings = EvalSettings.model_validate(data["settings"])
    suite = get_suite(settings.suite, settings.data)
    return settings, suite, solver_class(settings.solver)(suite, settings, Path(data["unit_root"]))


def result_row(suite: Suite, task_id: str, sample: int, outcome: Outcome, unit_root: str) -> dict:
    verdict = outcome.verdict
    return {"task_id": task_id, "completion_id": sample, "key": f"{task_id}#{sample}",
            "completion": outcome.completion, "passed": verdict.passed, "result": verdict.result,
            "reason": verdict.reason, "detail": verdict.detail, "mismatches": verdict.mismatches,
            "tb_samples": verdict.samples, "erratum": task_id in suite.errata(),
            "weak_testbench": task_id in suite.weak_testbenches(), "iterations": outcome.iterations,
            "solved_at": outcome.solved_at, "llm_calls": outcome.llm_calls, "prompt_tokens": outcome.prompt_tokens,
            "completion_tokens": outcome.completion_tokens, "cost_usd": outcome.cost_usd, "model": outcome.model,
            "tier": outcome.tier, "tiers": outcome.tiers, "run_dir": os.path.relpath(outcome.run_dir, Path(unit_root).parent),
            "wall_s": round(verdict.wall_s, 3)}


class _Writer:
    """The one writer of results.jsonl and samples.jsonl (rows fsync'd as they finish)."""

    def __init__(self, out: Path):
        self.rows = read_results(out)
        self._results = (out / RESULTS).open("a")
        samples = out / SAMPLES
        samples.write_text("".join(json.dumps(_human_eval(r)) + "\n" for r in self.rows))  # heals a torn line
        self._samples = samples.open("a")

    def add(self, row: dict) -> None:
        for handle, record in ((self._results, row), (self._samples, _human_eval(row))):
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.rows.append(row)

    def close(self) -> None:
        self._results.close()
        self._samples.close()


def _human_eval(row: dict) -> dict:
    return {"task_id": row["task_id"], "completion": row["completion"], "sample": row["completion_id"]}


def run_eval(settings: EvalSettings, out: Path, *, ks: list[int], jobs: int = 1, executor: str = "local",
             ray_address: str | None = None, budget_usd: float | None = None,
             on_row: Callable[[dict, int], None] = lambda row, total: None,
             on_error: Callable[[tuple[str, int], BaseException], None] = lambda unit, error: None) -> dict:
    """Solve every (problem, sample) not yet in out/results.jsonl; write the summary; return it."""
    suite = get_suite(settings.suite, settings.data)
    problems = settings.problems or [p.id for p in suite.problems()]
    units = [(task, n) for task in problems for n in range(settings.samples)]
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out)
    done = {row["key"] for row in writer.rows}
    todo = [unit for unit in units if f"{unit[0]}#{unit[1]}" not in done]
    errors: dict[str, str] = {}
    payload = json.dumps({"settings": settings.model_dump(), "unit_root": str((out / "runs").resolve())})
    limits = dict(concurrency_limit(model) for model in settings.models)
    _warm_up(suite, settings)

    def spent() -> float:
        return sum(row.get("cost_usd") or 0.0 for row in writer.rows)

    def should_stop() -> bool:
        return budget_usd is not None and spent() >= budget_usd

    def finished(unit, row, error) -> None:
        if error is not None:
            errors[f"{unit[0]}#{unit[1]}"] = f"{type(error).__name__}: {error}".splitlines()[0]
            on_error(unit, error)
            return
        writer.add(row)
        on_row(row, len(units))

    try:
        run = executors.run_ray if executor == "ray" else executors.run_local
        extra = {"address": ray_address} if executor == "ray" else {}
        # single generations: extra workers wait on the LLM while `jobs` of them simulate
        workers = jobs + (max(limits.values()) if settings.solver == "single" else 0)
        run(solve_unit, payload, todo, jobs, limits, finished, should_stop, workers=workers, **extra)
    finally:
        writer.close()
    summary = eval_summary(suite, settings, writer.rows, units, ks, budget_usd, errors, should_stop())
    (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _warm_up(suite: Suite, settings: EvalSettings) -> None:
    """Load the problems and import the solver and the SDKs here, before the pool forks: every worker inherits
    them instead of paying for them (no provider is built: its connections must not be shared)."""
    import importlib

    for model in settings.models:
        provider = parse_model(model).provider
        importlib.import_module({"anthropic": "agent.llm.anthropic_messages", "replay": "agent.llm.replay"}.get(
            provider, "agent.llm.openai_chat"))
    suite.problems()
    solver_class(settings.solver)


def eval_summary(suite: Suite, settings: EvalSettings, rows: list[dict], units: list, ks: list[int],
                 budget_usd: float | None, errors: dict[str, str], budget_spent: bool) -> dict:
    wanted = {f"{task}#{n}" for task, n in units}
    rows = [r for r in rows if r["key"] in wanted]
    summary = summarize(suite, rows, ks)
    missing = len(units) - len(rows)
    stopped = None
    if budget_spent and missing:
        stopped = f"budget ${budget_usd} spent: {missing} of {len(units)} samples not run"
    elif missing:
        stopped = f"{missing} of {len(units)} samples not finished ({len(errors)} failed: the same command retries them)"
    summary["eval_run"] = {
        "solver": settings.solver, "feedback": settings.feedback if settings.solver == "agent" else None,
        "setting": settings.setting,
        "benchmark_testbench_in_loop": settings.solver == "agent" and settings.feedback == "oracle",
        "models": settings.models, "samples_per_problem": settings.samples, "problems": len({u[0] for u in units}),
        "finished": len(rows), "total": len(units), "stopped": stopped, "errors": errors,
        "pass_at_1_by_iteration": pass_at_1_by_iteration(rows, settings.max_iters if settings.solver == "agent" else 1),
        "usage": usage_summary(rows), "tiers": tier_summary(rows, settings.models),
        "provenance": provenance(suite, settings.models),
    }
    return summary


def pass_at_1_by_iteration(rows: list[dict], iterations: int) -> list[dict]:
    """pass@1 had every run stopped after iteration i: a sample counts once its final, officially passing design
    came from iteration <= i (the agent stops at its first pass)."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_task[row["task_id"]].append(row)
    curve = []
    for i in range(1, iterations + 1):
        rates = [sum(1 for r in task_rows if r.get("solved_at") and r["solved_at"] <= i) / len(task_rows)
                 for task_rows in by_task.values()]
        curve.append({"iteration": i, "pass@1": round(sum(rates) / len(rates), 6) if rates else 0.0})
    return curve


def usage_summary(rows: list[dict]) -> dict:
    unknown = any(r.get("cost_usd") is None for r in rows)
    cost = None if unknown else round(sum(r["cost_usd"] for r in rows), 6)
    solved_tasks = len({r["task_id"] for r in rows if r["passed"]})
    tokens = sum(r.get("prompt_tokens", 0) + r.get("completion_tokens", 0) for r in rows)
    return {"llm_calls": sum(r.get("llm_calls", 0) for r in rows),
            "prompt_tokens": sum(r.get("prompt_tokens", 0) for r in rows),
            "completion_tokens": sum(r.get("completion_tokens", 0) for r in rows),
            "cost_usd": cost if not unknown else "unknown", "solved_problems": solved_tasks,
            "tokens_per_solved_problem": round(tokens / solved_tasks, 1) if solved_tasks else None,
            "cost_per_solved_problem": (round(cost / solved_tasks, 6) if solved_tasks and cost is not None
                                        else ("unknown" if unknown else None))}


def tier_summary(rows: list[dict], models: list[str]) -> list[dict]:
    """Per cascade tier: the share of solved samples whose final design it wrote, its calls, tokens and cost."""
    solved = [r for r in rows if r["passed"]]
    by_tier = Counter(r["tier"] for r in solved)
    out = []
    for index, model in enumerate(models):
        spent = [t for r in rows for t in r.get("tiers", []) if t["tier"] == index]
        costs = [t["cost_usd"] for t in spent]
        out.append({"tier": index, "model": model, "solved": by_tier.get(index, 0),
                    "share_of_solved": round(by_tier.get(index, 0) / len(solved), 6) if solved else 0.0,
                    "calls": sum(t["calls"] for t in spent),
                    "tokens": sum(t["prompt_tokens"] + t["completion_tokens"] for t in spent),
                    "cost_usd": "unknown" if any(c is None for c in costs) else round(sum(costs), 6)})
    return out


def verdict_rows(out: Path) -> list[dict]:
    """The verdict part of results.jsonl (no times, paths, or calls that a response cache saved), sorted by key."""
    return sorted(({k: row[k] for k in VERDICT_FIELDS} for row in read_results(out)), key=lambda row: row["key"])
