"""`hwagent bench eval-run`: the cost of `eval run`'s machinery per sample, against `eval score` on the same samples.

An instant loopback LLM (an OpenAI-compatible HTTP server in this process, SCRIPTED: it answers each problem's
prompt with the problem's reference in the suite's upstream format) stands in for the model, so the figures are
the harness's own: prompt building, the HTTP round trip, extraction, the official judge, fsync'd rows. Measured in
one run: `eval score` of the samples the run produced, `eval run` on the local pool, and `eval run` on Ray tasks
(Ray and its worker processes, with their imports, started before timing; that start-up is reported apart).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from evals.run import EvalSettings, run_eval
from evals.score import read_samples_jsonl, score_samples
from evals.solvers.conventions import convention_for
from evals.suites import Suite

TARGETS = {"run_over_score": 1.10, "ray_over_local": 1.25}
SERVER = "benchloop"


@dataclass
class EvalRunBench:
    suite: str
    samples: int
    jobs: int
    score_s: float
    local_s: float
    ray_s: float | None
    ray_start_s: float | None
    passed: int

    @property
    def run_over_score(self) -> float:
        return self.local_s / self.score_s

    @property
    def ray_over_local(self) -> float | None:
        return self.ray_s / self.local_s if self.ray_s else None

    def to_dict(self) -> dict:
        return asdict(self) | {"run_over_score": round(self.run_over_score, 3),
                               "ray_over_local": round(self.ray_over_local, 3) if self.ray_over_local else None,
                               "targets": TARGETS}


def reference_server(suite: Suite, problems: list[str]) -> ThreadingHTTPServer:
    """A loopback chat-completions server answering each problem's prompt with its reference (SCRIPTED)."""
    convention = convention_for(suite)
    answers = {}
    for task_id in problems:
        task = suite.problem(task_id)
        code = task.interface + task.reference if suite.id.startswith("verilog-eval-v1") else task.reference
        answers[convention.messages(task)[1]] = f"[BEGIN]\n{code}\n[DONE]\n" if "spec-to-rtl" in suite.id \
            else f"```verilog\n{code}\n```\n"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self._json({"object": "list", "data": []})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            text = answers.get(body["messages"][-1]["content"], "no idea")
            self._json({"id": "bench", "object": "chat.completion", "created": 0, "model": "bench",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 100, "total_tokens": 200}})

        def _json(self, data: dict) -> None:
            payload = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def run(suite: Suite, jobs: int, with_ray: bool = True, problems: list[str] | None = None,
        progress=lambda message: None) -> EvalRunBench:
    problems = problems or [p.id for p in suite.problems()]
    server = reference_server(suite, problems)
    os.environ[f"{SERVER.upper()}_BASE_URL"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings = EvalSettings(suite=suite.id, models=[f"openai-api/{SERVER}/reference"], problems=problems,
                            cache=False, data=str(Path(suite.root).parent))
    try:
        with tempfile.TemporaryDirectory(prefix="hwagent-bench-eval-run-") as tmp:
            progress("eval run (local pool)")
            start = time.perf_counter()
            summary = run_eval(settings, Path(tmp) / "local", ks=[1], jobs=jobs)
            local_s = time.perf_counter() - start
            samples = read_samples_jsonl(Path(tmp) / "local" / "samples.jsonl", set(problems))
            progress("eval score (same samples)")
            start = time.perf_counter()
            score_samples(suite, samples, Path(tmp) / "score", jobs=jobs)
            score_s = time.perf_counter() - start
            ray_s = ray_start = None
            if with_ray:
                ray_s, ray_start = _time_ray(settings, Path(tmp) / "ray", jobs, progress)
    finally:
        server.shutdown()
    return EvalRunBench(suite.id, len(problems), jobs, score_s, local_s, ray_s, ray_start,
                        summary["errata_included"]["passed_samples"])


def _import_solver(name: str) -> None:
    """A worker process's one-time imports (Ray reuses its workers for the run's tasks)."""
    import agent.llm.openai_chat  # noqa: F401
    from evals.solvers import solver_class

    solver_class(name)


def _time_ray(settings: EvalSettings, out: Path, jobs: int, progress) -> tuple[float, float]:
    import ray

    from evals.executors import forwarded_environment

    progress("starting Ray")
    start = time.perf_counter()
    ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": forwarded_environment()})
    workers = jobs + 1  # as run_eval starts them for single generations (provider limit 1)
    ray.get([ray.remote(num_cpus=jobs / workers)(_import_solver).remote(settings.solver) for _ in range(workers)])
    started = time.perf_counter() - start
    try:
        progress("eval run (Ray tasks)")
        start = time.perf_counter()
        run_eval(settings, out, ks=[1], jobs=jobs, executor="ray")
        return time.perf_counter() - start, started
    finally:
        ray.shutdown()
