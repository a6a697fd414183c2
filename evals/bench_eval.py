"""`hwagent bench eval`: the harness against the bare `iverilog && vvp` loop on the 156 VerilogEval v2 references.

Both run at the same parallelism in the same process run. The harness time is a full `score_samples` run
(worker processes, safety checks, token-tagged testbenches, sandboxed runs, fsync'd results); the baseline
is `iverilog ...` then `vvp -n ...` per problem (plain subprocesses, no shell) from a thread pool.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from evals.score import Sample, default_jobs, score_samples
from evals.suites import Suite
from evals.suites.verilog_eval import IVERILOG_FLAGS


@dataclass
class BenchResult:
    problems: int
    jobs: int
    bare_s: float
    harness_s: float
    bare_passed: int
    harness_passed: int

    @property
    def ratio(self) -> float:
        return self.harness_s / self.bare_s if self.bare_s else float("inf")


def _bare_one(folder: Path, task_id: str, sample: str, suite_folder: Path) -> bool:
    """`iverilog ... && vvp -n ...` for one problem, nothing else (no shell, no sandbox)."""
    work = folder / task_id
    work.mkdir()
    sample_file = work / "sample.sv"
    sample_file.write_text(sample)
    compiled = subprocess.run(["iverilog", *IVERILOG_FLAGS, "-s", "tb", "-o", "sim", str(sample_file),
                               str(suite_folder / f"{task_id}_test.sv"), str(suite_folder / f"{task_id}_ref.sv")],
                              cwd=work, capture_output=True, text=True, check=False)
    if compiled.returncode != 0:
        return False
    ran = subprocess.run(["vvp", "-n", "sim"], cwd=work, capture_output=True, text=True, timeout=30, check=False)
    return "Mismatches: 0 in" in ran.stdout


def run_bench(suite: Suite, jobs: int | None = None, limit: int | None = None, repeat: int = 1,
              progress: Callable[[str], None] | None = None) -> BenchResult:
    """Time the bare loop and the harness on the suite's references (a VerilogEval v2 suite), alternately
    `repeat` times; the best time of each is reported, as timeit does."""
    jobs = jobs or default_jobs()
    problems = suite.problems()[:limit] if limit else suite.problems()
    bare_times, harness_times, bare, rows = [], [], [], []
    for round_number in range(repeat):
        with tempfile.TemporaryDirectory(prefix="hwagent-bench-eval-") as tmp:
            bare_dir = Path(tmp) / "bare"
            bare_dir.mkdir()
            if progress:
                progress(f"round {round_number + 1}/{repeat}: bare iverilog && vvp loop, {len(problems)} problems, "
                         f"{jobs} jobs")
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                bare = list(pool.map(_bare_one, [bare_dir] * len(problems), [p.id for p in problems],
                                     [p.reference for p in problems], [suite.folder] * len(problems)))
            bare_times.append(time.perf_counter() - start)
            if progress:
                progress(f"round {round_number + 1}/{repeat}: hwagent harness (score_samples), {len(problems)} "
                         f"problems, {jobs} jobs")
            samples = [Sample(p.id, p.reference, 0) for p in problems]
            start = time.perf_counter()
            rows, _ = score_samples(suite, samples, Path(tmp) / "harness", jobs=jobs)
            harness_times.append(time.perf_counter() - start)
    return BenchResult(len(problems), jobs, min(bare_times), min(harness_times), sum(bare),
                       sum(r["passed"] for r in rows))
