"""Lint with pyslang, Verilator and Icarus; one merged, de-duplicated list of diagnostics.

Before any linter reads a file, the files are preprocessed in the sandbox (verify.safety.check_files): an
`include outside the files' folders (`/etc/passwd`) is reported and no linter runs, so no host file's lines
reach the report, the CLI or an LLM's next prompt. The linters themselves run sandboxed too."""

from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel

from verify import safety, sandbox, tools
from verify.diagnostics import Diagnostic, iverilog_diagnostics, merge, render_feedback

_LIMITS = sandbox.Limits(wall_s=60, cpu_s=60)
# pyslang errors that Icarus and Verilator accept; reported as warnings so feedback does not chase them.
_PYSLANG_SOFT_ERRORS = {"MissingTimeScale"}
_VERILATOR_LINE = re.compile(
    r"^%(?P<sev>Error|Warning)(?:-(?P<code>[A-Z0-9_]+))?: (?P<file>[^:\s]+):(?P<line>\d+):(?:(?P<col>\d+):)? ?(?P<msg>.*)$")


class LintReport(BaseModel):
    files: list[str]
    diagnostics: list[Diagnostic]
    tools_run: list[str]
    skipped: list[str]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def feedback(self, max_chars: int = 4000) -> str:
        """Compact text for an LLM: errors with source context and a caret, warnings summarised."""
        return render_feedback(self.diagnostics, max_chars=max_chars)


def run_pyslang(files: list[Path], top: str | None) -> list[Diagnostic]:
    from pyslang import DiagnosticEngine, DiagnosticSeverity, ast, syntax

    options = ast.CompilationOptions()
    if top:
        options.topModules = {top}
    bag = __import__("pyslang").Bag([options])
    compilation = ast.Compilation(bag)
    for file in files:
        compilation.addSyntaxTree(syntax.SyntaxTree.fromText(file.read_text(errors="replace"), str(file)))
    sm = compilation.sourceManager
    engine = DiagnosticEngine(sm)
    found = []
    for diag in compilation.getAllDiagnostics():
        severity = engine.getSeverity(diag.code, diag.location)
        if severity == DiagnosticSeverity.Ignored:
            continue
        level = "error" if severity in (DiagnosticSeverity.Error, DiagnosticSeverity.Fatal) else (
            "warning" if severity == DiagnosticSeverity.Warning else "note")
        code = str(diag.code).removeprefix("DiagCode(").removesuffix(")")
        if code in _PYSLANG_SOFT_ERRORS:
            level = "warning"
        found.append(Diagnostic(
            tool="pyslang", severity=level, code=code,
            file=os.path.abspath(sm.getFileName(diag.location)) if sm.getFileName(diag.location) else "", line=sm.getLineNumber(diag.location),
            col=sm.getColumnNumber(diag.location), message=engine.formatMessage(diag)))
    return found


def run_verilator(files: list[Path], top: str | None, tool: tools.Tool) -> list[Diagnostic]:
    cmd = [tool.path, "--lint-only", "-Wall", "-Wno-DECLFILENAME", "-Wno-MULTITOP", "--timing"]
    if top:
        cmd += ["--top-module", top]
    with tempfile.TemporaryDirectory(prefix="hwagent-lint-") as cwd:
        result = sandbox.run(cmd + [str(f) for f in files], cwd, _LIMITS, writable=[cwd], readable=_folders(files))
    if result.timed_out:
        return [Diagnostic(tool="verilator", severity="error", code="TIMEOUT", message="verilator lint timed out")]
    found = []
    for line in result.stderr.splitlines():
        match = _VERILATOR_LINE.match(line)
        if not match or match["msg"].startswith("Exiting due to"):
            continue
        found.append(Diagnostic(
            tool="verilator", severity="error" if match["sev"] == "Error" else "warning", code=match["code"] or "",
            file=match["file"], line=int(match["line"]), col=int(match["col"] or 0), message=match["msg"].strip()))
    return found


def run_iverilog(files: list[Path], top: str | None, tool: tools.Tool) -> list[Diagnostic]:
    cmd = [tool.path, "-g2012", "-Wall", "-Wno-timescale", "-t", "null"]
    if top:
        cmd += ["-s", top]
    with tempfile.TemporaryDirectory(prefix="hwagent-lint-") as cwd:
        result = sandbox.run(cmd + [str(f) for f in files], cwd, _LIMITS, writable=[cwd], readable=_folders(files))
    found = iverilog_diagnostics(result.stdout + result.stderr)
    if result.returncode != 0 and not any(d.is_error for d in found):
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["iverilog failed"]
        found.append(Diagnostic(tool="iverilog", severity="error", code="compile", message=tail[0]))
    return found


def _folders(files: list[Path]) -> list[str]:
    return sorted({str(f.parent) for f in files})


def lint(files: list[str | Path], top: str | None = None) -> LintReport:
    """Run every available linter on `files` and merge their findings. Missing tools are skipped with a note."""
    paths = [Path(f).resolve() for f in files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(missing)}")
    if tools.iverilog().found and (contained := safety.check_files(paths, allowlist=False)):
        return LintReport(files=[str(p) for p in paths], diagnostics=contained, tools_run=["hwagent-safety"],
                          skipped=["linters not run: the files reach outside their folders"])
    jobs, skipped = {}, []
    try:
        import pyslang  # noqa: F401

        jobs["pyslang"] = lambda: run_pyslang(paths, top)
    except ImportError:
        skipped.append("pyslang not installed (pip install pyslang)")
    for tool, runner in ((tools.verilator_lint(), run_verilator), (tools.iverilog(), run_iverilog)):
        if tool.found:
            jobs[tool.name] = (lambda t=tool, r=runner: r(paths, top, t))
        else:
            skipped.append(f"{tool.name} not found ({tool.install})")
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        results = {name: future.result() for name, future in futures.items()}
    diagnostics = merge([d for name in jobs for d in results[name]])
    return LintReport(files=[str(p) for p in paths], diagnostics=diagnostics, tools_run=list(jobs), skipped=skipped)
