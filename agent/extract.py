"""Pull Verilog out of an LLM answer: fenced blocks, [BEGIN]/[DONE] markers, several modules, prose around.

An answer without any module is not an error here: `Extraction.code` is None and `problem` says why,
so the agent can score it as a failed candidate and tell the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_MARKERS = re.compile(r"\[BEGIN\](.*?)(?:\[DONE\]|\[END\]|\Z)", re.DOTALL)
_MODULE = re.compile(r"^[ \t]*(?:module|macromodule)\s+(\\?[A-Za-z_][\w$]*)", re.MULTILINE)
_MODULE_SPAN = re.compile(r"^[ \t]*(?:module|macromodule)\s+\\?[A-Za-z_][\w$]*.*?\bendmodule\b(?:[ \t]*:[ \t]*\w+)?",
                          re.DOTALL | re.MULTILINE)
# a module that starts mid-line: after prose ("Here it is: module m(...") or glued to a fence ("```module m(");
# the name must be followed by `(`, `#` or `;`, which prose rarely is
_INLINE_START = re.compile(r"(?<![\w$])(?=(?:module|macromodule)\s+\\?[A-Za-z_][\w$]*\s*[(#;])")
_PREAMBLE = re.compile(r"^[ \t]*`(?:timescale|define|default_nettype|include)\b[^\n]*$", re.MULTILINE)
_TESTBENCH_NAME = re.compile(r"^(?:tb|testbench|test_?bench\w*|tb_\w+|\w+_tb|\w+_testbench)$", re.IGNORECASE)
_HDL_LANGS = {"", "verilog", "systemverilog", "sv", "v", "vlog", "hdl"}


@dataclass
class Extraction:
    code: str | None
    modules: list[str] = field(default_factory=list)
    method: str = ""  # fenced | markers | bare | inline | none
    problem: str = ""  # why nothing usable was found, or what was repaired

    @property
    def ok(self) -> bool:
        return self.code is not None


TRUNCATED = "the answer was cut off at the answer token limit (finish_reason: length)"


def extract_verilog(answer: str, top: str | None = None, *, truncated: bool = False) -> Extraction:
    """The Verilog in `answer`; with several definitions of a module the last one wins (models repeat
    a module when they correct themselves). With `top`, the result must define it. `truncated`: the server
    stopped the answer at the token limit, which the problem then says."""
    extraction = _extract(answer, top)
    if truncated:
        extraction.problem = "; ".join(p for p in (TRUNCATED, extraction.problem) if p)
    return extraction


def _extract(answer: str, top: str | None) -> Extraction:
    for method, chunks in (("fenced", _fenced(answer)), ("markers", _MARKERS.findall(answer)),
                           ("bare", [answer]), ("inline", [_INLINE_START.sub("\n", answer)])):
        spans = [span for chunk in chunks for span in _module_spans(chunk)]
        if spans:
            return _assemble(spans, chunks, method, top)
    unclosed = re.search(r"^[ \t]*module\s+\w+", answer, re.MULTILINE)
    problem = ("the answer starts a module but never closes it with endmodule (truncated?)" if unclosed
               else "the answer contains no Verilog module")
    return Extraction(None, [], "none", problem)


def _fenced(answer: str) -> list[str]:
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(answer)]
    return [body for lang, body in blocks if lang in _HDL_LANGS]


def _module_spans(text: str) -> list[tuple[str, str]]:
    spans = []
    for match in _MODULE_SPAN.finditer(text):
        name = _MODULE.match(match.group(0)).group(1).lstrip("\\")
        spans.append((name, match.group(0).strip()))
    return spans


def _assemble(spans: list[tuple[str, str]], chunks: list[str], method: str, top: str | None) -> Extraction:
    latest: dict[str, str] = {}
    for name, text in spans:
        latest.pop(name, None)
        latest[name] = text  # re-insert: a redefinition moves to the end
    problem = ""
    if len(spans) > len(latest):
        problem = "a module was defined more than once; the last definition was kept"
    benches = [name for name in latest if name != top and _TESTBENCH_NAME.match(name)]
    if top is not None and benches and len(benches) < len(latest):
        for name in benches:  # the model added its own testbench: the trusted one is used instead
            del latest[name]
        problem = (problem + "; " if problem else "") + f"testbench module(s) {', '.join(benches)} dropped"
    names = list(latest)
    if top is not None and top not in latest:
        return Extraction(None, names, method, f"the answer defines {', '.join(names)} but not the required "
                                               f"module `{top}`")
    preamble = []
    for chunk in chunks:
        for line in _PREAMBLE.findall(chunk):
            if line.strip() not in preamble:
                preamble.append(line.strip())
    code = "\n".join(preamble + [""] if preamble else []) + "\n\n".join(latest.values()) + "\n"
    return Extraction(code, names, method, problem)
