"""Run recipes: how one sample of a problem is simulated and judged, as one object the agent and the judges share.

A benchmark suite (evals.suites) builds an `IcarusJob` or a `CocotbJob` for a sample (sources in command-line order,
trusted files, flags, time limit, data files and the suite's own pass/fail rule); `job.run()` simulates it and
returns a `JobResult`: the official `Verdict` (the suite's result string and class) and the `SimResult` details
(mismatch rows, hints, logs, waves) the agent turns into feedback. `eval score` and the agent's in-loop check call
the same `run()`, so the agent can never stop on a design the benchmark's judge fails, nor keep repairing one it
passes. Spec files get the same objects with the generic rules `native_rule` / `cocotb_rule`.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from verify import sandbox
from verify.sim import (
    IcarusRun,
    SimResult,
    Source,
    judge_native,
    run_icarus,
    simulate_cocotb,
)

KEEP_POLICIES = ("failed", "always", "never")


@dataclass
class Verdict:
    """The official verdict on one sample: `result` is the upstream string or code, `reason` its class."""

    task_id: str
    passed: bool
    result: str
    reason: str
    detail: str = ""
    mismatches: int | None = None
    samples: int | None = None
    wall_s: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


IcarusRule = Callable[[str, IcarusRun, str], Verdict]  # (task id, the run, the design text) -> verdict
CocotbRule = Callable[[str, SimResult], Verdict]  # (task id, the simulation) -> verdict


@dataclass
class JobResult:
    verdict: Verdict
    sim: SimResult  # details for feedback; `passed` always equals the verdict's


@dataclass(frozen=True)
class IcarusJob:
    """One native-testbench simulation: `sources` in iverilog command-line order (role "design" is the sample)."""

    task_id: str
    sources: tuple[Source, ...]
    top: str
    rule: IcarusRule
    flags: tuple[str, ...] = ("-g2012",)
    timeout_s: float = 60.0
    data_files: tuple[Path, ...] = ()
    include_dirs: tuple[Path, ...] = ()
    defines: tuple[tuple[str, str | None], ...] = ()
    plusargs: tuple[str, ...] = ()
    fail_pattern: str | None = None  # testbench lines that explain a failure to the agent; never decide a verdict

    @property
    def design_text(self) -> str:
        return "\n".join(s.text for s in self.sources if s.role == "design")

    def run(self, *, waves: bool = False, run_root: str | Path | None = None, keep: str = "never",
            timeout_s: float | None = None) -> JobResult:
        """Compile and simulate exactly the recipe; `keep` is one of KEEP_POLICIES for the run dir. `waves`: a
        failing run is simulated once more with a VCD dump of the testbench top added (a separate top module,
        whose messages could change a verdict, so that run is never judged) and its waveform reported."""
        limit = timeout_s or self.timeout_s
        raw = self._icarus(list(self.sources), [self.top], limit, run_root,
                           keep == "always" or (keep == "failed" and (lambda done: not self._verdict(done).passed)))
        verdict = self._verdict(raw)
        sim = _reconcile(judge_native(raw, None, self.fail_pattern), verdict)
        sim.run_dir, sim.waveform, sim.log_path = raw.run_dir, raw.waveform, raw.log_path
        sim.wall_s, sim.isolation = raw.wall_s, sandbox.isolation().description
        if waves and not verdict.passed and raw.compiled:
            dump = Source("hwagent_dump.v", f'module hwagent_dump; initial begin $dumpfile("waves.vcd"); '
                                            f'$dumpvars(0, {self.top}); end endmodule\n', "trusted")
            sim.waveform = self._icarus([*self.sources, dump], [self.top, "hwagent_dump"], limit, run_root,
                                        True).waveform
        return JobResult(verdict, sim)

    def _icarus(self, sources: list[Source], tops: list[str], timeout_s: float, run_root, keep) -> IcarusRun:
        return run_icarus(sources, tops, flags=list(self.flags), timeout_s=timeout_s, plusargs=list(self.plusargs),
                          data_files=list(self.data_files), include_dirs=list(self.include_dirs),
                          defines=dict(self.defines) or None, run_root=run_root, keep=keep)

    def _verdict(self, raw: IcarusRun) -> Verdict:
        verdict = self.rule(self.task_id, raw, self.design_text)
        verdict.wall_s = raw.wall_s
        return verdict


@dataclass(frozen=True)
class CocotbJob:
    """One cocotb simulation: the design texts, the test module, and the files the test reads from its folder.

    `files` are written into the job's folder; `env_files` maps environment variables to names in that folder
    (e.g. HWAGENT_VECTORS -> vectors.json), so a test finds its inputs and may write its outputs there."""

    task_id: str
    design: tuple[tuple[str, str], ...]  # (file name, text)
    test_module: str
    top: str
    rule: CocotbRule
    trusted: tuple[Path, ...] = ()
    parameters: tuple[tuple[str, int], ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    env_files: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 240.0
    untrusted_testbench: bool = False  # an LLM wrote the test module: name what the sandbox blocked
    simulator: str | None = None
    test_name: str = field(default="")

    def run(self, *, waves: bool = False, run_root: str | Path | None = None, keep: str = "never",
            timeout_s: float | None = None) -> JobResult:
        folder = Path(run_root).resolve() if run_root else Path(tempfile.mkdtemp(prefix="hwagent-job-"))
        folder.mkdir(parents=True, exist_ok=True)
        try:
            designs = []
            for name, text in self.design:
                designs.append(folder / name)
                designs[-1].write_text(text, errors="replace")
            module = folder / f"{self.test_name or 'tb_' + self.top}.py"
            module.write_text(self.test_module)
            for name, text in self.files:
                (folder / name).write_text(text)
            sim = simulate_cocotb(designs, module, self.top, trusted=list(self.trusted), simulator=self.simulator,
                                  parameters=dict(self.parameters) or None, timeout_s=timeout_s or self.timeout_s,
                                  waves=waves, run_root=folder, keep=keep,
                                  extra_env=dict(self.env) | {var: str(folder / name) for var, name in self.env_files},
                                  untrusted_testbench=self.untrusted_testbench,
                                  writable=[] if self.untrusted_testbench else [folder])
            verdict = self.rule(self.task_id, sim)
            verdict.wall_s = sim.wall_s
            return JobResult(verdict, _reconcile(sim, verdict))
        finally:
            if run_root is None:
                shutil.rmtree(folder, ignore_errors=True)


Job = IcarusJob | CocotbJob


def _reconcile(sim: SimResult, verdict: Verdict) -> SimResult:
    """The details with the official outcome: a pass is the judge's pass; a run the testbench passed but the judge
    failed (a marker in the log, a missing report line) becomes reason `judge_failed`."""
    sim.official = verdict.to_dict()
    if verdict.passed:
        sim.passed, sim.reason = True, "passed"
    elif sim.passed:
        sim.passed, sim.reason = False, "judge_failed"
    return sim


def _native(task_id: str, raw: IcarusRun, design_text: str, pass_pattern: str | None,
            fail_pattern: str | None) -> Verdict:
    sim = judge_native(raw, pass_pattern, fail_pattern)
    return Verdict(task_id, sim.passed, "passed" if sim.passed else f"failed: {sim.summary()}", sim.reason,
                   "" if sim.passed else sim.log_excerpt[-800:], sim.mismatches, sim.samples)


def native_rule(pass_pattern: str | None = None, fail_pattern: str | None = None) -> IcarusRule:
    """hwagent's rule for self-checking testbenches of spec files: `Mismatches: 0 in N samples` (N > 0) in the
    testbench's own lines, or `pass_pattern` without `fail_pattern`."""
    return functools.partial(_native, pass_pattern=pass_pattern, fail_pattern=fail_pattern)


def cocotb_rule(task_id: str, sim: SimResult) -> Verdict:
    """Every cocotb test passed."""
    detail = "" if sim.passed else "\n".join(sim.assertion_messages[:8]) or sim.log_excerpt[-800:]
    return Verdict(task_id, sim.passed, "passed" if sim.passed else f"failed: {sim.summary()}", sim.reason, detail,
                   sim.mismatches, sim.samples)
