"""A module's interface as pyslang elaborates it: parameters and ports (direction, width, signedness).

The one port reader of the project: the agent's port check, benchmark interfaces and the unit specs read from the
expert RTL all use it. Widths are elaborated with the given parameter values (the module's defaults otherwise);
`Port.width_expr` keeps the declared range as an expression over parameters (`LANES*IN_W`) for specs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIRECTIONS = {"In": "input", "Out": "output", "InOut": "inout"}


class InterfaceError(ValueError):
    """The module is not in the text, or the text does not parse."""


@dataclass(frozen=True)
class Port:
    name: str
    direction: str  # input | output | inout
    width: int
    signed: bool
    width_expr: int | str  # the declared width: an int, or an expression over parameter names


@dataclass(frozen=True)
class Interface:
    module: str
    parameters: dict[str, int]  # overridable parameters (not localparams) with their values
    ports: list[Port]

    def widths(self) -> dict[str, tuple[str, int]]:
        return {p.name: (p.direction, p.width) for p in self.ports}


def read_interface(text: str, top: str, parameters: dict[str, int] | None = None,
                   file: str = "design.v") -> Interface:
    """The interface of module `top` in `text`, elaborated with `parameters` overriding its defaults."""
    from pyslang import Bag, ast, syntax

    options = ast.CompilationOptions()
    options.topModules = {top}
    options.paramOverrides = [f"{name}={value}" for name, value in (parameters or {}).items()]
    compilation = ast.Compilation(Bag([options]))
    compilation.addSyntaxTree(syntax.SyntaxTree.fromText(text, file))
    instance = next((i for i in compilation.getRoot().topInstances if i.name == top), None)
    if instance is None:
        raise InterfaceError(f"module `{top}` is not defined")
    body = instance.body
    values = {p.name: _int_value(p.value) for p in body.parameters if p.isPortParam or not p.isLocalParam}
    ports = [Port(p.name, _DIRECTIONS.get(str(p.direction).rsplit(".", 1)[-1], "inout"), max(1, int(p.type.bitWidth)),
                  bool(p.type.isSigned), _declared_width(p)) for p in body.portList]
    return Interface(top, {k: v for k, v in values.items() if v is not None}, ports)


def _int_value(value) -> int | None:
    """An integer parameter's value (`8`, `4'b11`); None for reals, strings and types."""
    text = str(value)
    sized = re.fullmatch(r"\d*'s?([bdho])([0-9a-fA-F_]+)", text)
    if sized:
        return int(sized[2].replace("_", ""), {"b": 2, "d": 10, "h": 16, "o": 8}[sized[1]])
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _declared_width(port) -> int | str:
    """The width as written in the port declaration: `[X-1:0]` -> "X", `[7:0]` -> 8; elaborated otherwise."""
    header = getattr(port.syntax.parent, "header", None)
    dimensions = list(getattr(getattr(header, "dataType", None), "dimensions", None) or [])
    if len(dimensions) != 1:
        return max(1, int(port.type.bitWidth))
    match = re.fullmatch(r"\s*\[\s*(.+?)\s*:\s*0\s*\]\s*", str(dimensions[0]))
    if match is None:
        return max(1, int(port.type.bitWidth))
    msb = match.group(1)
    if msb.isdigit():
        return int(msb) + 1
    minus_one = re.fullmatch(r"(.+?)\s*-\s*1", msb)
    return minus_one.group(1) if minus_one else f"{msb}+1"


def defined_modules(text: str) -> list[str]:
    """Names of the modules a Verilog source defines, in order (comments ignored; a text scan, no elaboration)."""
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.findall(r"^\s*module\s+(\w+)", code, re.MULTILINE)
