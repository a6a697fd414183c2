"""One diagnostic type for every tool, and the compact feedback text an LLM receives."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

SEVERITY_RANK = {"error": 0, "warning": 1, "note": 2}
IVERILOG_LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): (?:(?P<sev>error|warning|sorry): )?(?P<msg>.*)$")
_IVERILOG_UNLABELLED_ERROR = re.compile(r"syntax error|error|unable|unknown|not declared|invalid", re.IGNORECASE)


class Diagnostic(BaseModel):
    tool: str
    severity: str  # error | warning | note
    code: str = ""
    file: str = ""
    line: int = 0
    col: int = 0
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def position(self) -> str:
        where = Path(self.file).name if self.file else "<input>"
        return f"{where}:{self.line}:{self.col}" if self.col else f"{where}:{self.line}"


def merge(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """De-duplicate (same position and severity from several tools count once) and sort by position."""
    seen: dict[tuple, Diagnostic] = {}
    for diag in diagnostics:
        key = (diag.file, diag.line, diag.severity, _normalise(diag.message))
        near = (diag.file, diag.line, diag.severity)
        if key in seen or (diag.is_error and any(k[:3] == near for k in seen)):
            continue
        seen[key] = diag
    return sorted(seen.values(), key=lambda d: (d.file, d.line, d.col, SEVERITY_RANK.get(d.severity, 3)))


def _normalise(message: str) -> str:
    return " ".join(message.lower().replace("'", "").replace("`", "").split())


def render_feedback(diagnostics: list[Diagnostic], sources: dict[str, str] | None = None,
                    max_chars: int = 4000, context: int = 2) -> str:
    """Errors with `context` lines of source and a caret; warnings summarised by code; capped at max_chars."""
    sources = sources or {}
    errors = [d for d in diagnostics if d.is_error]
    warnings = [d for d in diagnostics if d.severity == "warning"]
    parts: list[str] = []
    if errors:
        parts.append(f"{len(errors)} error(s):")
    for diag in errors:
        parts.append(f"{diag.position()}: error: {diag.message} [{diag.tool}{'/' + diag.code if diag.code else ''}]")
        text = sources.get(diag.file)
        if text is None and diag.file and Path(diag.file).is_file():
            text = Path(diag.file).read_text(errors="replace")
        if text and diag.line > 0:
            lines = text.splitlines()
            for number in range(max(1, diag.line - context), min(len(lines), diag.line) + 1):
                parts.append(f"{number:5d} | {lines[number - 1]}")
            if diag.col > 0:
                parts.append(" " * 8 + " " * (diag.col - 1) + "^")
    if warnings:
        counts = Counter(d.code or d.message for d in warnings)
        summary = ", ".join(f"{code} x{n}" if n > 1 else code for code, n in counts.most_common(8))
        parts.append(f"{len(warnings)} warning(s): {summary}")
        for diag in warnings[:5]:
            parts.append(f"  {diag.position()}: {diag.message}")
    text = "\n".join(parts) if parts else "No lint errors or warnings."
    if len(text) > max_chars:
        text = text[: max_chars - 40].rsplit("\n", 1)[0] + "\n... (feedback truncated)"
    return text


def iverilog_diagnostics(output: str) -> list[Diagnostic]:
    """Icarus messages (`file:line: [error|warning|sorry: ]message`) as diagnostics. Unlabelled lines count only
    when they read as errors; continuation lines ("A symbol with that name was declared here.") are skipped."""
    found = []
    for line in output.splitlines():
        match = IVERILOG_LINE.match(line.strip())
        if not match:
            continue
        message = match["msg"].strip()
        if match["sev"] is None and not _IVERILOG_UNLABELLED_ERROR.search(message):
            continue
        found.append(Diagnostic(tool="iverilog", severity="warning" if match["sev"] == "warning" else "error",
                                code="syntax" if "syntax" in message else "", file=match["file"],
                                line=int(match["line"]), message=message))
    return found
