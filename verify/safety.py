"""Static checks on an untrusted design before it is compiled next to a trusted testbench.

Rejected, each with a diagnostic naming the line:
- `$system` (shell access);
- file system tasks (`$fopen`, `$readmem*`, `$writemem*`, `$dumpfile`) and `` `include `` whose path is absolute,
  contains `..`, or is not a string literal (a computed path could be either);
- simulation control (`$finish`, `$stop`, `$exit`, `$fatal`): a design that ends the run early can cut a testbench
  short, and a VerilogEval `final` block then reports `Mismatches: 0 in 0 samples`;
- hierarchical references that leave the design (`tb.errors`, `$root...`, a testbench instance name): a design
  could read the reference model's outputs or overwrite the testbench's error counters.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from verify.diagnostics import Diagnostic

_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
_FILE_TASK = re.compile(r"(?:\$(fopen|readmemh|readmemb|writememh|writememb|dumpfile)\s*\(|`(include))\s*([^,)\n]*)")
_FORBIDDEN = {
    "system": "shell access with $system is not allowed in the design under test",
    "finish": "$finish in the design under test is not allowed: only the testbench ends a simulation",
    "stop": "$stop in the design under test is not allowed: only the testbench ends a simulation",
    "exit": "$exit in the design under test is not allowed: only the testbench ends a simulation",
    "fatal": "$fatal in the design under test is not allowed: only the testbench ends a simulation",
}
_FORBIDDEN_CALL = re.compile(r"\$(" + "|".join(_FORBIDDEN) + r")\b")


def _blank_comments(text: str) -> str:
    """Replace comments by spaces (newlines kept) so positions stay valid; strings are left intact."""
    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    out, pos = [], 0
    for match in re.finditer(r'"(?:\\.|[^"\\\n])*"|//[^\n]*|/\*.*?\*/', text, re.DOTALL):
        out.append(text[pos:match.start()])
        out.append(match.group(0) if match.group(0).startswith('"') else blank(match))
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_source(text: str, file: str = "") -> list[Diagnostic]:
    code = _blank_comments(text)
    found: list[Diagnostic] = []

    def reject(offset: int, rule: str, message: str) -> None:
        line, col = _line_col(code, offset)
        found.append(Diagnostic(tool="hwagent-safety", severity="error", code=rule, file=file, line=line, col=col,
                                message=message))

    without_strings = _STRING.sub(lambda m: " " * len(m.group(0)), code)
    for match in _FORBIDDEN_CALL.finditer(without_strings):
        reject(match.start(), f"forbidden-{match.group(1)}", _FORBIDDEN[match.group(1)])
    for match in _FILE_TASK.finditer(code):
        if without_strings[match.start()] not in "$`":
            continue  # the task name is inside a string literal
        task, arg = (f"${match.group(1)}" if match.group(1) else "`include"), match.group(3).strip()
        literal = _STRING.fullmatch(arg)
        if not literal:
            reject(match.start(), "file-path", f"{task} path must be a string literal relative to the run dir")
            continue
        path = arg[1:-1]
        if path.startswith(("/", "~")) or ".." in Path(path).parts or re.match(r"^[A-Za-z]:", path):
            reject(match.start(), "file-path",
                   f"{task} \"{path}\": absolute paths and '..' are not allowed; stay inside the run dir")
    return found


def check_hierarchy(files: list[str | Path]) -> list[Diagnostic]:
    """Elaborate the design alone with pyslang; a dotted name it cannot resolve reaches outside the design."""
    if not files:
        return []
    try:
        from pyslang import DiagnosticEngine, ast, syntax
    except ImportError:
        return []
    compilation = ast.Compilation()
    texts: dict[str, str] = {}
    for file in files:
        path = os.path.abspath(file)
        texts[path] = Path(file).read_text(errors="replace")
        compilation.addSyntaxTree(syntax.SyntaxTree.fromText(texts[path], path))
    sm = compilation.sourceManager
    engine = DiagnosticEngine(sm)
    found = []
    for diag in compilation.getAllDiagnostics():
        code = str(diag.code).removeprefix("DiagCode(").removesuffix(")")
        if code not in ("UndeclaredIdentifier", "CouldNotResolveHierarchicalPath"):
            continue
        file = os.path.abspath(sm.getFileName(diag.location))
        line, col = sm.getLineNumber(diag.location), sm.getColumnNumber(diag.location)
        source_line = texts.get(file, "").splitlines()[line - 1] if file in texts else ""
        rest = source_line[col - 1:]
        name = re.match(r"\$?\w+", rest)
        dotted = name and rest[name.end():].lstrip().startswith(".")
        if code == "CouldNotResolveHierarchicalPath" or dotted or rest.startswith("$root"):
            found.append(Diagnostic(tool="hwagent-safety", severity="error", code="outside-reference", file=file,
                                    line=line, col=col,
                                    message=f"hierarchical reference outside the design under test: "
                                            f"{engine.formatMessage(diag)}"))
    return found


def check_design(files: list[str | Path]) -> list[Diagnostic]:
    """All safety checks on the untrusted design files."""
    found = []
    for file in files:
        found += check_source(Path(file).read_text(errors="replace"), str(file))
    return found + check_hierarchy(files)
