"""Static checks on an untrusted design, run on the text the simulator itself will compile.

The design is preprocessed by Icarus's own preprocessor (`iverilog -E`, the run's flags and defines, so
`__ICARUS__` and every `ifdef` resolve as in the real compile), in the order of the real command line, inside
the sandbox (verify.sandbox: host files outside the run dir do not exist there). Per-run marker comments
between the files tell which preprocessed text came from the design. On that text (an allowlist, not a
denylist):
- only the system tasks and functions in ALLOWED_TASKS are accepted; `$readmemh` / `$readmemb` only with a
  string literal naming a relative file inside the run dir (escapes decoded before the path is judged). No
  file I/O, no `$finish*` / `$stop` / `$fatal` (only the testbench ends a run: a VerilogEval `final` block
  then reports `Mismatches: 0 in 0 samples`), no `$system`, no `$dump*`, no plusargs;
- every `include (listed by `iverilog -M`) must resolve inside the run dir (or a trusted include dir);
- compiler directives left after preprocessing are limited to ALLOWED_DIRECTIVES (another tool could read
  anything else as a conditional);
- hierarchical references that leave the design (`tb.errors`, `$root...`) are rejected: the design is
  elaborated alone with pyslang, and a dotted name it cannot resolve reaches outside.
The lexer is linear in the input (a pathological `/* /* /* ...` is no slower than any other text).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from verify.diagnostics import Diagnostic

ALLOWED_TASKS = frozenset(
    {f"{task}{radix}" for task in ("display", "write", "strobe", "monitor") for radix in ("", "b", "h", "o")}
    | {"monitoron", "monitoroff", "time", "stime", "realtime", "timeformat", "printtimescale",
       "random", "urandom", "urandom_range", "dist_uniform", "dist_normal", "dist_exponential", "dist_poisson",
       "signed", "unsigned", "clog2", "bits", "size", "left", "right", "low", "high", "increment", "dimensions",
       "unpacked_dimensions", "countones", "countbits", "onehot", "onehot0", "isunknown", "cast", "typename",
       "rtoi", "itor", "realtobits", "bitstoreal", "shortrealtobits", "bitstoshortreal",
       "ln", "log10", "exp", "sqrt", "pow", "floor", "ceil", "sin", "cos", "tan", "asin", "acos", "atan",
       "atan2", "hypot", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "abs", "min", "max",
       "sformatf", "sformat", "swrite", "swriteb", "swriteh", "swriteo", "psprintf",
       "info", "warning", "error", "past", "rose", "fell", "stable", "changed", "sampled",
       "readmemh", "readmemb", ""})  # "" is SystemVerilog's bare `$` (last queue index)
READMEM = frozenset({"readmemh", "readmemb"})
ALLOWED_DIRECTIVES = frozenset({"timescale", "default_nettype", "celldefine", "endcelldefine", "resetall",
                                "unconnected_drive", "nounconnected_drive", "begin_keywords", "end_keywords"})
_ENDS_RUN = ("finish", "stop", "exit", "fatal")

_TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\\n]|\\.)*"?)
  | (?P<line>//[^\n]*)
  | (?P<block>/\*.*?(?:\*/|\Z))
  | (?P<system>\$[A-Za-z0-9_$]*)
  | (?P<directive>`[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<escaped>\\\S*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "v": "\v", "f": "\f", "a": "\a", "\\": "\\", '"': '"', "\n": ""}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int


def tokens(text: str) -> Iterator[Token]:
    """Verilog tokens coarse enough for the checks: strings, comments, system names, directives, words."""
    for match in _TOKEN.finditer(text):
        yield Token(match.lastgroup, match.group(), match.start())


def decode_string(literal: str) -> str:
    """The value of a Verilog string literal, quotes removed and escapes (`\\057`, `\\x2f`, `\\n` ...) decoded."""
    body = literal[1:-1] if literal.endswith('"') and len(literal) > 1 else literal[1:]

    def one(match: re.Match) -> str:
        octal, hexa, char = match.groups()
        if octal:
            return chr(int(octal, 8) & 0xFF)
        if hexa:
            return chr(int(hexa, 16))
        return _SIMPLE_ESCAPES.get(char, char)

    return _ESCAPE.sub(one, body)


def unsafe_path(path: str) -> str:
    """Why a file name a design passes to `$readmem*` could leave the run dir ("" when it cannot)."""
    if not path or "\0" in path:
        return "an empty file name"
    if path.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:", path):
        return "absolute paths are not allowed"
    if ".." in re.split(r"[/\\]", path):
        return "'..' is not allowed"
    return ""


@dataclass
class Checker:
    """Collects diagnostics for one preprocessed text; positions are mapped back to (file, line)."""

    text: str
    found: list[Diagnostic]

    def reject(self, offset: int, region: tuple[int, int, str], rule: str, message: str) -> None:
        start, _, file = region
        line = self.text.count("\n", start, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        self.found.append(Diagnostic(tool="hwagent-safety", severity="error", code=rule, file=file,
                                     line=max(line, 1), col=col, message=message))


def _task_message(name: str) -> tuple[str, str]:
    if name.startswith(_ENDS_RUN):
        return "forbidden-" + next(n for n in _ENDS_RUN if name.startswith(n)), (
            f"${name} in the design under test is not allowed: only the testbench ends a simulation")
    if name == "system":
        return "forbidden-system", "shell access with $system is not allowed in the design under test"
    return "forbidden-task", (f"${name} is not allowed in the design under test (only display, time, random "
                              "and math system tasks and functions, and $readmemh/$readmemb of a file in the "
                              "run dir)")


def check_tokens(text: str, regions: list[tuple[int, int, str]]) -> list[Diagnostic]:
    """The allowlist checks on the design regions (start, end, file name) of `text`."""
    checker = Checker(text, [])
    region_index, toks = 0, list(tokens(text))
    for index, tok in enumerate(toks):
        while region_index < len(regions) and tok.start >= regions[region_index][1]:
            region_index += 1
        if region_index == len(regions):
            break
        region = regions[region_index]
        if tok.start < region[0]:
            continue
        if tok.kind == "system":
            name = tok.text[1:]
            if name not in ALLOWED_TASKS:
                checker.reject(tok.start, region, *_task_message(name))
            elif name in READMEM:
                _check_readmem(toks, index, checker, region)
        elif tok.kind == "directive" and tok.text[1:] not in ALLOWED_DIRECTIVES:
            checker.reject(tok.start, region, "directive",
                           f"{tok.text} is left after preprocessing: not allowed in the design under test")
        elif tok.kind == "block" and not tok.text.endswith("*/"):
            checker.reject(tok.start, region, "unterminated", "unterminated /* comment")
    return checker.found


def _check_readmem(toks: list[Token], index: int, checker: Checker, region: tuple[int, int, str]) -> None:
    task = toks[index]
    rest = (t for t in toks[index + 1:index + 64] if t.kind not in ("space", "line", "block"))
    paren, arg = next(rest, None), next(rest, None)
    if not (paren and paren.text == "(" and arg and arg.kind == "string"):
        checker.reject(task.start, region, "file-path",
                       f"{task.text} file name must be a string literal relative to the run dir")
        return
    path = decode_string(arg.text)
    if why := unsafe_path(path):
        checker.reject(task.start, region, "file-path",
                       f"{task.text} {path!r}: {why}; stay inside the run dir")


def check_source(text: str, file: str = "") -> list[Diagnostic]:
    """The allowlist checks on one already preprocessed design text."""
    return check_tokens(text, [(0, len(text), file)])


@dataclass(frozen=True)
class Marked:
    """The files of one preprocessing run, each preceded by a marker comment no design can forge."""

    nonce: str

    @classmethod
    def new(cls) -> Marked:
        return cls(f"@@HWAGENT-FILE-{secrets.token_hex(8)}")

    def marker(self, index: int) -> str:
        return f"// {self.nonce}:{index}@@"

    def marker_text(self, index: int) -> str:
        return f"\n{self.marker(index)}\n"

    def regions(self, text: str, names: list[str], untrusted: list[bool]) -> tuple[list, list[Diagnostic]]:
        """Design regions of the preprocessed `text`; a marker swallowed by a comment, a string or an open
        `ifdef (a design that reaches into the next file) is an error."""
        seen = [(t.start, t.text) for t in tokens(text) if t.kind == "line" and t.text.startswith(f"// {self.nonce}:")]
        expected = [self.marker(i) for i in range(len(names))]
        if [m for _, m in seen] != expected or text.count(self.nonce) != len(names):
            culprit = next((n for n, u in zip(names, untrusted) if u), names[0] if names else "")
            return [], [Diagnostic(tool="hwagent-safety", severity="error", code="file-boundary", file=culprit,
                                   message="the design reaches past the end of its file (an unterminated comment, "
                                           "string or `ifdef, or an include of another run file)")]
        starts = [start + len(marker) + 1 for (start, _), marker in zip(seen, expected)]  # after the marker line
        ends = [start for start, _ in seen[1:]] + [len(text)]
        regions = [(starts[i], max(starts[i], ends[i]), names[i]) for i in range(len(names)) if untrusted[i]]
        return regions, []


def check_includes(deps: list[str], sources: list[Path], cwd: Path, allowed: list[Path]) -> list[Diagnostic]:
    """Every file `iverilog -M` read besides the sources must lie under one of the `allowed` folders."""
    known = {os.path.realpath(s) for s in sources}
    roots = [os.path.realpath(a) for a in allowed]
    found = []
    for dep in dict.fromkeys(d.strip() for d in deps if d.strip()):
        real = os.path.realpath(os.path.join(cwd, dep))
        if real in known or any(real == root or real.startswith(root + os.sep) for root in roots):
            continue
        found.append(Diagnostic(tool="hwagent-safety", severity="error", code="include-path",
                                message=f"`include \"{dep}\": only files inside the run dir may be included"))
    return found


def check_hierarchy(regions: list[tuple[str, str]]) -> list[Diagnostic]:
    """Elaborate the design (preprocessed (name, text) regions) alone with pyslang; a dotted name it cannot
    resolve reaches outside the design."""
    if not regions:
        return []
    from pyslang import DiagnosticEngine, ast, syntax

    compilation = ast.Compilation()
    texts: dict[str, str] = {}
    for index, (name, text) in enumerate(regions):
        key = f"{index}:{name}"
        texts[key] = text
        compilation.addSyntaxTree(syntax.SyntaxTree.fromText(text, key))
    sm = compilation.sourceManager
    engine = DiagnosticEngine(sm)
    found = []
    for diag in compilation.getAllDiagnostics():
        code = str(diag.code).removeprefix("DiagCode(").removesuffix(")")
        if code not in ("UndeclaredIdentifier", "CouldNotResolveHierarchicalPath"):
            continue
        key = sm.getFileName(diag.location)
        line, col = sm.getLineNumber(diag.location), sm.getColumnNumber(diag.location)
        lines = texts.get(key, "").splitlines()
        rest = lines[line - 1][col - 1:] if 0 < line <= len(lines) else ""
        name = re.match(r"\$?\w+", rest)
        dotted = name and rest[name.end():].lstrip().startswith(".")
        if code == "CouldNotResolveHierarchicalPath" or dotted or rest.startswith("$root"):
            found.append(Diagnostic(tool="hwagent-safety", severity="error", code="outside-reference",
                                    file=key.split(":", 1)[-1], line=line, col=col,
                                    message=f"hierarchical reference outside the design under test: "
                                            f"{engine.formatMessage(diag)}"))
    return found


def judge_preprocessed(text: str, marked: Marked, names: list[str], untrusted: list[bool]) -> list[Diagnostic]:
    """Every check on the preprocessed stream of all sources (markers included)."""
    regions, broken = marked.regions(text, names, untrusted)
    if broken:
        return broken
    found = check_tokens(text, regions)
    if found:
        return found
    texts = [(name, text[start:end]) for start, end, name in regions]
    if not any(has_dotted_name(body) for _, body in texts):
        return []  # no `a.b`, `a[0].b` or `f().b`: nothing can name a scope outside the design
    return check_hierarchy(texts)


def has_dotted_name(text: str) -> bool:
    """Whether a `.` follows a name, `]` or `)` (comments and spaces skipped): the shape every hierarchical
    reference has. Named port connections `.a(x)` and real numbers `1.5` do not count."""
    previous = None
    for tok in tokens(text):
        if tok.kind in ("space", "line", "block"):
            continue
        if tok.text == "." and previous is not None and (previous.kind in ("word", "escaped") or previous.text in "])"):
            return True
        previous = tok
    return False


def check_files(design: list[str | Path], trusted: list[str | Path] = (), *, flags: list[str] = ("-g2012",),
                defines: dict[str, str | None] | None = None, allowlist: bool = True,
                timeout_s: float = 30.0) -> list[Diagnostic]:
    """Preprocess `trusted` then `design` files with `iverilog -E` in the sandbox (only their folders exist
    there) and check the design's text. `allowlist=False` (lint) keeps only the containment checks: includes
    inside the files' folders, no text reaching into another file."""
    from verify import sandbox, tools

    design, trusted = [Path(f).resolve() for f in design], [Path(f).resolve() for f in trusted]
    if not design:
        return []
    iverilog = tools.require(tools.iverilog())
    folders = sorted({str(f.parent) for f in design + trusted})
    marked = Marked.new()
    with tempfile.TemporaryDirectory(prefix="hwagent-check-") as tmp:
        out = Path(tmp)
        sources, marks = trusted + design, []
        for index in range(len(sources)):
            marks.append(out / f"marker_{index}.v")
            marks[-1].write_text(marked.marker_text(index))
        cmd = [iverilog.path, "-E", *flags,
               *(f"-D{k}={v}" if v is not None else f"-D{k}" for k, v in (defines or {}).items()),
               "-M", str(out / "deps"), "-o", str(out / "pre.v"),
               *(str(p) for pair in zip(marks, sources) for p in pair)]
        ran = sandbox.run(cmd, design[0].parent, sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 5),
                          writable=[out], readable=folders)
        if ran.timed_out or ran.returncode != 0:
            reason = "timed out" if ran.timed_out else _first_error(ran.stderr + ran.stdout, out)
            return [Diagnostic(tool="hwagent-safety", severity="error", code="preprocess", file=str(design[0]),
                               message=f"preprocessing failed: {reason}")]
        deps = (out / "deps").read_text(errors="replace").splitlines() if (out / "deps").exists() else []
        found = check_includes(deps, sources + marks, design[0].parent, [Path(f) for f in folders])
        text = (out / "pre.v").read_text(errors="replace")
    names = [str(f) for f in sources]
    untrusted = [False] * len(trusted) + [True] * len(design)
    if not allowlist:
        return found + Marked.regions(marked, text, names, untrusted)[1]
    return found + judge_preprocessed(text, marked, names, untrusted)


def _first_error(log: str, scratch: Path) -> str:
    """The preprocessor's first error line, without the names of our scratch files."""
    lines = [line.replace(str(scratch) + os.sep, "") for line in log.splitlines() if line.strip()]
    lines = [line for line in lines if "errors preprocessing" not in line] or lines
    return next((line for line in lines if "Include file" in line),
                next((line for line in lines if "error" in line.lower()), lines[0] if lines else "unknown error"))
