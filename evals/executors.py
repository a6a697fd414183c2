"""Where `hwagent eval run` executes its (problem, sample) units: a local process pool or Ray tasks.

Both keep `jobs` units in flight, hand finished rows back to the caller (the one writer of results.jsonl) and stop
submitting when told to. Per-provider LLM concurrency (HWAGENT_<PROVIDER>_CONCURRENCY) holds across all workers:
a manager semaphore per provider for the pool, a Ray actor for Ray; never a counter per worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from multiprocessing import Manager

from agent.llm.client import set_concurrency_gate
from verify.sandbox import die_with_parent

Unit = tuple[str, int]  # (task id, sample number)
Work = Callable[[str, str, int], dict]  # (settings JSON, task id, sample) -> result row; raises on failure
OnResult = Callable[[Unit, dict | None, BaseException | None], None]
_FORWARDED = ("HWAGENT_", "OPENAI_", "ANTHROPIC_")  # environment a remote worker needs (keys, servers, data)
SIMULATIONS = "__simulations__"  # the gate key that bounds simulations to --jobs while LLM calls overlap them
_SIM_SLOT: list = []


def simulation_slot():
    """Held while a solver judges: at most `jobs` simulations at a time, however many workers wait on the LLM."""
    return _SIM_SLOT[0]() if _SIM_SLOT else nullcontext()


def _pool_worker_init(gates: dict) -> None:
    die_with_parent()
    set_concurrency_gate(lambda key, limit: gates.get(key) or nullcontext())
    _SIM_SLOT[:] = [lambda: gates[SIMULATIONS]]


def run_local(work: Work, settings: str, units: Iterable[Unit], jobs: int, limits: dict[str, int],
              on_result: OnResult, should_stop: Callable[[], bool], workers: int | None = None) -> None:
    """`workers` processes (default `jobs`), at most `jobs` of them simulating at once."""
    workers = workers or jobs
    with Manager() as manager:
        gates = {key: manager.BoundedSemaphore(limit) for key, limit in (limits | {SIMULATIONS: jobs}).items()}
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_pool_worker_init, initargs=(gates,))
        try:
            _keep_busy(lambda unit: pool.submit(work, settings, *unit), _wait_futures, units, workers, on_result,
                       should_stop)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _wait_futures(pending: dict) -> list:
    done, _ = wait(pending, return_when=FIRST_COMPLETED)
    return [(future, None if future.exception() else future.result(), future.exception()) for future in done]


def forwarded_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(_FORWARDED) or k.endswith(("_BASE_URL", "_API_KEY"))}


def run_ray(work: Work, settings: str, units: Iterable[Unit], jobs: int, limits: dict[str, int],
            on_result: OnResult, should_stop: Callable[[], bool], workers: int | None = None,
            address: str | None = None) -> None:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else jobs, include_dashboard=False,
                 log_to_driver=False, runtime_env={"env_vars": forwarded_environment()})
    workers = workers or jobs
    limiter = _limiter_class(ray).remote(limits | {SIMULATIONS: jobs})
    task = ray.remote(num_cpus=jobs / workers, max_retries=0)(_ray_unit)

    def wait_one(pending: dict) -> list:
        ready, _ = ray.wait(list(pending), num_returns=1)
        done = []
        for ref in ready:
            try:
                done.append((ref, ray.get(ref), None))
            except ray.exceptions.RayTaskError as exc:
                done.append((ref, None, exc.as_instanceof_cause()))
        return done

    _keep_busy(lambda unit: task.remote(work, settings, unit, limiter), wait_one, units, workers, on_result,
               should_stop)


def _keep_busy(submit, wait_one, units: Iterable[Unit], workers: int, on_result: OnResult,
               should_stop: Callable[[], bool]) -> None:
    """Keep `workers` units in flight until all ran or `should_stop()`; report each as it finishes."""
    pending: dict = {}
    queue = iter(units)
    while True:
        while len(pending) < workers and not should_stop():
            unit = next(queue, None)
            if unit is None:
                break
            pending[submit(unit)] = unit
        if not pending:
            return
        for handle, row, error in wait_one(pending):
            on_result(pending.pop(handle), row, error)


def _ray_unit(work: Work, settings: str, unit: Unit, limiter) -> dict:
    import ray

    @contextmanager
    def gate(key: str, limit: int):
        ray.get(limiter.acquire.remote(key))
        try:
            yield
        finally:
            limiter.release.remote(key)

    set_concurrency_gate(gate)
    _SIM_SLOT[:] = [lambda: gate(SIMULATIONS, 0)]
    return work(settings, *unit)


def _limiter_class(ray):
    @ray.remote
    class Limiter:
        """One asyncio semaphore per provider, shared by every Ray worker of the run."""

        def __init__(self, limits: dict[str, int]):
            import asyncio

            self.semaphores = {key: asyncio.Semaphore(limit) for key, limit in limits.items()}

        async def acquire(self, key: str) -> None:
            if key in self.semaphores:
                await self.semaphores[key].acquire()

        async def release(self, key: str) -> None:
            if key in self.semaphores:
                self.semaphores[key].release()

    return Limiter
