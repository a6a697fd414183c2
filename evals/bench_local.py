"""`hwagent bench local`: a real local model (llama.cpp's server, small GGUF models from PyPI) through `eval run`.

Measured per model and solver on a VerilogEval v2 slice: generation speed (completion tokens / seconds the server
took, from the transcripts), seconds per agent iteration (eval wall time / iterations, one request at a time),
and pass@1 as the official judge gives it. These models are far too small to solve the problems: pass@1 ~0 is the
expected, honest figure; the point is that the whole path is real.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.llm.llamacpp_server import LlamaCppServer
from evals.run import EvalSettings, run_eval

SUITE = "verilog-eval-v2:spec-to-rtl"


@dataclass
class LocalRun:
    model: str
    solver: str
    problems: int
    passed: int
    iterations: int
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    llm_s: float
    wall_s: float

    @property
    def pass_at_1(self) -> float:
        return self.passed / self.problems if self.problems else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.llm_s if self.llm_s else 0.0

    @property
    def s_per_iteration(self) -> float:
        return self.wall_s / self.iterations if self.iterations else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"pass@1": self.pass_at_1, "tokens_per_s": round(self.tokens_per_s, 2),
                               "s_per_iteration": round(self.s_per_iteration, 2)}


def first_problems(count: int, data: str | None = None) -> list[str]:
    """The suite's first `count` problem ids (Prob001_zero ...): the slice this bench uses."""
    from evals.suites import get_suite

    return sorted(p.id for p in get_suite(SUITE, data).problems())[:count]


def run(models: list[str], problems: list[str], solvers: list[str], *, max_iters: int = 3,
        answer_tokens: int = 512, data: str | None = None, out: Path | None = None,
        progress=lambda message: None) -> list[LocalRun]:
    progress(f"starting llama_cpp.server with {', '.join(models)}")
    results = []
    with LlamaCppServer.packaged(*models) as server, tempfile.TemporaryDirectory(prefix="hwagent-bench-local-") as tmp:
        os.environ["LLAMACPP_BASE_URL"] = server.base_url
        for model in models:
            for solver in solvers:
                progress(f"{model}: eval run --solver {solver} on {len(problems)} problems")
                settings = EvalSettings(suite=SUITE, models=[f"llamacpp/{model}"], solver=solver, problems=problems,
                                        max_iters=max_iters, answer_tokens=answer_tokens, cache=False, data=data)
                folder = (out or Path(tmp)) / f"{model}-{solver}"
                start = time.perf_counter()
                run_eval(settings, folder, ks=[1], jobs=1)
                results.append(_measure(model, solver, folder, time.perf_counter() - start))
    return results


def _measure(model: str, solver: str, folder: Path, wall_s: float) -> LocalRun:
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]
    exchanges = [json.loads(line) for path in sorted(folder.glob("runs/**/transcript.jsonl"))
                 for line in path.read_text().splitlines()[1:] if line.strip()]
    return LocalRun(model, solver, len(rows), sum(1 for r in rows if r["passed"]),
                    sum(r.get("iterations") or 0 for r in rows), sum(r.get("llm_calls") or 0 for r in rows),
                    sum(e["response"]["usage"]["prompt_tokens"] for e in exchanges),
                    sum(e["response"]["usage"]["completion_tokens"] for e in exchanges),
                    sum(e.get("latency_s", 0.0) for e in exchanges), wall_s)
