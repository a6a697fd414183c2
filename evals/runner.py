"""One Icarus run of an untrusted sample against a trusted testbench, keeping the raw logs the judges need.

Built from verify's pieces (safety checks, run dirs, token-tagged testbenches, the sandbox) rather than
`verify.sim.simulate_native`, because the official verdicts of the benchmark suites need what that function
does not expose: the raw compile output (VerilogEval v1 fails any run that prints on stderr, v2's
sv-iv-analyze greps every compile line), the simulator's stderr, the upstream file order on the iverilog
command line (sample first, then test, then reference: `timescale` inheritance depends on it) and one
wall-clock budget shared by compile and simulation (VerilogEval v1).

The forged-report protection is the same as verify.sim's: the testbench's display tasks are prefixed with a
per-run random token, and only token-prefixed stdout lines count as the testbench's report.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from verify import sandbox, tools
from verify.diagnostics import Diagnostic
from verify.safety import check_design
from verify.sim import RunDir, tag_testbench

_COMMENT_OR_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_FATAL = re.compile(r"\$fatal\b")


def check_fatal(path: Path) -> list[Diagnostic]:
    """`$fatal` in the design ends the run early, and the testbench's `final` block then reports
    `Mismatches: 0 in 0 samples`, which both VerilogEval harnesses count as a pass. verify.safety does not
    reject it (yet), so the harness does."""
    text = path.read_text(errors="replace")
    code = _COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return [Diagnostic(tool="hwagent-eval", severity="error", code="forbidden-fatal", file=str(path),
                       line=code.count("\n", 0, m.start()) + 1,
                       message="$fatal in the design under test is not allowed: only the testbench ends a simulation")
            for m in _FATAL.finditer(code)]


@dataclass
class Source:
    """One source file for the iverilog command line, in order; `role` is design | testbench | trusted."""

    name: str
    text: str
    role: str


@dataclass
class RawRun:
    """Everything a judge needs: rejections, compile output, simulation output, timings."""

    rejected: list[Diagnostic] = field(default_factory=list)
    compile_rc: int | None = None
    compile_stdout: str = ""
    compile_stderr: str = ""
    compiled: bool = False
    sim_rc: int | None = None
    sim_lines: list[tuple[str, bool]] = field(default_factory=list)  # stdout lines, (text, from the testbench)
    sim_stderr: str = ""
    timed_out: bool = False
    timed_out_in: str = ""  # compile | sim
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
        return self.sim_stdout + self.sim_stderr


def run_icarus(sources: list[Source], top: str, *, flags: list[str] = ("-g2012",), timeout_s: float = 30.0,
               shared_budget: bool = False, data_files: list[Path] = (), run_root: str | Path | None = None,
               compile_timeout_s: float = 120.0) -> RawRun:
    """Safety-check the design sources, compile all sources in the given order with `iverilog`, run `vvp -n`.

    `timeout_s` bounds the simulation; with `shared_budget` it bounds compile plus simulation together.
    """
    start = time.monotonic()
    raw = RawRun()
    iverilog = tools.require(tools.iverilog())
    run = RunDir(run_root, prefix="hwagent-eval-")
    try:
        token = f"@@HWAGENT{secrets.token_hex(8)}@@"
        paths = []
        for index, source in enumerate(sources):
            folder = run.build / source.role
            folder.mkdir(exist_ok=True)
            path = folder / f"{index}_{source.name}"
            text = tag_testbench(source.text, token) if source.role == "testbench" else source.text
            path.write_text(text, errors="replace")  # a JSON sample may hold lone surrogates
            paths.append(path)
        design = [p for p, s in zip(paths, sources) if s.role == "design"]
        raw.rejected = check_design(design) + [d for p in design for d in check_fatal(p)]
        if raw.rejected:
            return raw
        for file in data_files:
            shutil.copyfile(file, run.work / Path(file).name)
        simv = run.build / "sim.vvp"
        cmd = [iverilog.path, *flags, f"-s{top}", "-o", str(simv), *map(str, paths)]
        budget = timeout_s if shared_budget else compile_timeout_s
        compiled = sandbox.run(cmd, run.work, sandbox.Limits(wall_s=budget, cpu_s=int(budget) + 5))
        raw.compile_rc, raw.compile_stdout, raw.compile_stderr = compiled.returncode, compiled.stdout, compiled.stderr
        for path, source in zip(paths, sources):  # show the user's file names, not the run dir's
            raw.compile_stdout = raw.compile_stdout.replace(str(path), source.name)
            raw.compile_stderr = raw.compile_stderr.replace(str(path), source.name)
        if compiled.timed_out:
            raw.timed_out, raw.timed_out_in = True, "compile"
            return raw
        raw.compiled = compiled.returncode == 0 and simv.exists()
        if not raw.compiled:
            return raw
        vvp = shutil.which("vvp", path=str(Path(iverilog.path).parent)) or shutil.which("vvp")
        remaining = timeout_s - compiled.wall_s if shared_budget else timeout_s
        if remaining <= 0:
            raw.timed_out, raw.timed_out_in = True, "compile"
            return raw
        ran = sandbox.run([vvp, "-n", str(simv)], run.work,
                          sandbox.Limits(wall_s=remaining, cpu_s=int(remaining) + 5))
        raw.sim_rc, raw.sim_stderr = ran.returncode, ran.stderr
        raw.timed_out, raw.timed_out_in = ran.timed_out, "sim" if ran.timed_out else ""
        raw.sim_lines = [(line.replace(token, ""), line.startswith(token)) for line in ran.stdout.splitlines()]
        return raw
    finally:
        run.remove()
        raw.wall_s = time.monotonic() - start
