"""A small VCD reader: value of any signal at any time, loading only the signals asked for."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

_UNITS = {"s": 10**15, "ms": 10**12, "us": 10**9, "ns": 10**6, "ps": 10**3, "fs": 1}


@dataclass
class Var:
    name: str  # full hierarchical name, scopes joined with "."
    width: int
    code: str
    times: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)

    def at(self, time: int) -> str | None:
        """Value (binary string, or x/z) after all changes at `time`; None before the first change."""
        index = bisect.bisect_right(self.times, time) - 1
        return self.values[index] if index >= 0 else None


class Waveform:
    def __init__(self, path: str | Path, keep=lambda name: True):
        self.path = Path(path)
        self.timescale_fs = 1000
        self.vars: dict[str, Var] = {}
        self._by_code: dict[str, list[Var]] = {}
        self.end_time = 0
        self._parse(keep)

    def _parse(self, keep) -> None:
        scopes: list[str] = []
        text = self.path.read_text(errors="replace")
        header, _, body = text.partition("$enddefinitions")
        for token in re.finditer(r"\$(scope|upscope|var|timescale)\b(.*?)\$end", header, re.DOTALL):
            kind, rest = token.group(1), token.group(2).split()
            if kind == "scope":
                scopes.append(rest[1])
            elif kind == "upscope":
                scopes.pop()
            elif kind == "timescale":
                match = re.match(r"(\d+)\s*([a-z]+)", "".join(rest))
                self.timescale_fs = int(match.group(1)) * _UNITS[match.group(2)]
            elif len(rest) >= 4:
                name = ".".join(scopes + [rest[3]])
                if keep(name) and name not in self.vars:
                    var = Var(name, int(rest[1]), rest[2])
                    self.vars[name] = var
                    self._by_code.setdefault(var.code, []).append(var)
        time = 0
        tokens = body.partition("$end")[2].split()
        index = 0
        while index < len(tokens):
            token = tokens[index]
            head = token[0]
            if head == "#":
                time = int(token[1:])
                self.end_time = time
            elif head in "01xzXZ":
                self._change(token[1:], time, head.lower())
            elif head in "bBrR" and index + 1 < len(tokens):
                self._change(tokens[index + 1], time, token[1:].lower())
                index += 1
            index += 1

    def _change(self, code: str, time: int, value: str) -> None:
        for var in self._by_code.get(code, ()):
            if len(value) < var.width:
                value = value.rjust(var.width, value[0] if value[0] in "xz" else "0")
            if var.times and var.times[-1] == time:
                var.values[-1] = value
            else:
                var.times.append(time)
                var.values.append(value)

    def to_fs(self, time: int) -> int:
        return time * self.timescale_fs

    def from_fs(self, femtoseconds: int) -> int:
        return femtoseconds // self.timescale_fs

    def find(self, leaf: str, under: str | None = None) -> Var | None:
        """The shallowest signal named `leaf` (optionally inside scope `under`)."""
        matches = [v for n, v in self.vars.items() if n.rsplit(".", 1)[-1] == leaf
                   and (under is None or n.startswith(under + "."))]
        return min(matches, key=lambda v: v.name.count("."), default=None)

    def rising_edges(self, var: Var) -> list[int]:
        edges, previous = [], None
        for time, value in zip(var.times, var.values):
            if value == "1" and previous == "0":
                edges.append(time)
            previous = value
        return edges


def as_int(value: str | None, width: int, signed: bool = False) -> int | None:
    if value is None or any(c in value for c in "xz"):
        return None
    number = int(value, 2)
    if signed and width > 1 and number >> (width - 1):
        number -= 1 << width
    return number


def show(value: str | None, width: int, signed: bool = False) -> str:
    """Readable value: decimal (signed where asked), hex for wide buses, x/z kept visible."""
    if value is None:
        return "-"
    if any(c in value for c in "xz"):
        return value if len(value) <= 8 else ("x" if "x" in value else "z") + f"({width} bits)"
    number = as_int(value, width, signed)
    if width > 64:  # wide buses: the low end in hex, kept short for the prompt
        text = hex(int(value, 2))
        return text if len(text) <= 20 else f"...{text[-16:]} ({width} bits)"
    return str(number)
