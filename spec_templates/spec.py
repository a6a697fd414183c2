"""The hwagent spec file format: one hardware module to design, as YAML, validated with pydantic.

A spec says *what* to build; the agent (agent/) writes the Verilog and verify/ checks it. Every spec
producer (hand-written examples, `hwagent spec` from workload profiles, benchmark adapters) emits this
format, and `render_markdown(spec)` turns it into the Markdown text the LLM reads.

YAML layout (all keys except `name`, `description` and `ports` are optional)::

    name: requant_int8            # Verilog module name the design must use (identifier)
    title: INT8 requantiser       # one-line human title
    description: |                # Markdown: behaviour, corner cases, examples
      ...
    parameters:                   # Verilog parameters with defaults
      - {name: N, default: 4, description: lanes}
    ports:                        # the complete interface, in header order
      - {name: clk,   direction: input}
      - {name: acc,   direction: input,  width: 32, signed: true, description: int32 accumulator}
      - {name: out_q, direction: output, width: "8*N"}   # width may use parameters (+ - * / ( ) integers)
    clock: {name: clk, edge: posedge}                     # omit for purely combinational designs
    reset: {name: rst_n, active_low: true, synchronous: true}
    latency: {kind: fixed, cycles: 2, initiation_interval: 1, description: ...}
             # kind: combinational | fixed (outputs valid `cycles` active edges after the inputs) | handshake
    ppa: {clock_mhz: 100, max_area_um2: 50000, max_cells: 800, max_power_mw: 2.0, library: osu018}
    testbench:
      kind: cocotb                # cocotb (Python test module) | native (self-checking Verilog testbench)
      path: requant_tb.py         # file relative to the spec file, or `source:` with the code inline
      top: tb                     # native only: the testbench's top module (default tb)
      vectors_path: requant_vectors.json  # golden vectors (JSON list of objects), or `vectors:` inline
    source: workloads/vit-tiny    # provenance (free text), optional

Golden vectors are a list of records mapping port names (and optionally `cycle`) to integers: inputs to
drive and expected outputs. A cocotb testbench finds them at run time in the JSON file named by the
environment variable `HWAGENT_VECTORS` (see `VECTORS_ENV`); a native testbench may `$readmemh` files that
the runner copies next to it (`Testbench.data_files`).

Native testbench pass criterion: the simulation output contains `Mismatches: 0 in N samples` (the
VerilogEval convention) and no `FAIL`; cocotb: every test passes. To get a mismatch table in the agent's
feedback, a testbench logs each mismatch as one line (see `MISMATCH_LINE`)::

    MISMATCH signal=out_q cycle=5 time=55000 expected=-12 got=13

(`time` in the simulator's time unit, ps for cocotb's `get_sim_time("ps")`; `cycle` optional).

Use `load_spec(path)` (raises `SpecError` with one line naming the bad field) and `Spec.model_validate`
for dicts. The format is stable: new keys may be added as optional, existing ones keep their meaning.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

VECTORS_ENV = "HWAGENT_VECTORS"
MISMATCH_LINE = re.compile(r"MISMATCH signal=(?P<signal>\S+)(?: cycle=(?P<cycle>-?\d+))?(?: time=(?P<time>\d+))?"
                           r" expected=(?P<expected>\S+) got=(?P<got>\S+)")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class SpecError(ValueError):
    """A spec file that cannot be read or does not validate; the message is one line naming the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Parameter(_Model):
    name: str
    default: int
    description: str = ""

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return _check_identifier(value)


class Port(_Model):
    name: str
    direction: Literal["input", "output", "inout"]
    width: int | str = 1  # bits; an int or an expression over parameter names
    signed: bool = False
    description: str = ""

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return _check_identifier(value)

    @field_validator("width")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("width must be >= 1")
        return value

    def resolved_width(self, parameters: dict[str, int]) -> int:
        """Width in bits with parameter defaults (or the given overrides) substituted."""
        return self.width if isinstance(self.width, int) else eval_width(self.width, parameters)

    def verilog_range(self) -> str:
        if self.width == 1:
            return ""
        msb = f"{self.width - 1}" if isinstance(self.width, int) else f"({self.width})-1"
        return f"[{msb}:0]"


class Clock(_Model):
    name: str = "clk"
    edge: Literal["posedge", "negedge"] = "posedge"


class Reset(_Model):
    name: str = "rst_n"
    active_low: bool = True
    synchronous: bool = True


class Latency(_Model):
    kind: Literal["combinational", "fixed", "handshake"] = "fixed"
    cycles: int | None = Field(default=None, ge=0)
    initiation_interval: int = Field(default=1, ge=1)
    description: str = ""

    @model_validator(mode="after")
    def _cycles_for_fixed(self) -> Latency:
        if self.kind == "fixed" and self.cycles is None:
            raise ValueError("latency.kind 'fixed' needs latency.cycles")
        return self


class PPABudget(_Model):
    clock_mhz: float | None = Field(default=None, gt=0)
    max_area_um2: float | None = Field(default=None, gt=0)
    max_cells: int | None = Field(default=None, gt=0)
    max_power_mw: float | None = Field(default=None, gt=0)
    library: str = "osu018"

    @property
    def empty(self) -> bool:
        return not any((self.max_area_um2, self.max_cells, self.max_power_mw, self.clock_mhz))


class Testbench(_Model):
    kind: Literal["cocotb", "native"]
    path: str | None = None
    source: str | None = None
    top: str = "tb"
    vectors: list[dict[str, int]] | None = None
    vectors_path: str | None = None
    data_files: list[str] = []

    @model_validator(mode="after")
    def _one_source(self) -> Testbench:
        if (self.path is None) == (self.source is None):
            raise ValueError("testbench needs exactly one of 'path' or 'source'")
        if self.vectors is not None and self.vectors_path is not None:
            raise ValueError("testbench takes 'vectors' or 'vectors_path', not both")
        return self


class Spec(_Model):
    name: str
    title: str = ""
    description: str
    parameters: list[Parameter] = []
    ports: list[Port]
    clock: Clock | None = None
    reset: Reset | None = None
    latency: Latency | None = None
    ppa: PPABudget | None = None
    testbench: Testbench | None = None
    source: str = ""
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return _check_identifier(value)

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        names = [p.name for p in self.ports]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"ports: duplicate name(s) {', '.join(duplicates)}")
        if not self.ports:
            raise ValueError("ports: at least one port is needed")
        params = self.parameter_values()
        inputs = {p.name for p in self.ports if p.direction == "input"}
        for port in self.ports:
            try:
                port.resolved_width(params)
            except ValueError as exc:
                raise ValueError(f"ports.{port.name}.width: {exc}") from None
        for what, signal in (("clock", self.clock), ("reset", self.reset)):
            if signal is not None and signal.name not in inputs:
                raise ValueError(f"{what}.name: '{signal.name}' is not an input port")
            if signal is not None and self.port(signal.name).resolved_width(params) != 1:
                raise ValueError(f"{what}.name: '{signal.name}' must be 1 bit wide")
        if self.latency and self.latency.kind != "combinational" and self.clock is None:
            raise ValueError(f"latency.kind '{self.latency.kind}' needs a clock")
        return self

    # --- queries -----------------------------------------------------------------------------------
    def port(self, name: str) -> Port:
        return next(p for p in self.ports if p.name == name)

    def parameter_values(self, overrides: dict[str, int] | None = None) -> dict[str, int]:
        return {p.name: p.default for p in self.parameters} | (overrides or {})

    def port_widths(self) -> dict[str, tuple[str, int]]:
        """{port: (direction, width)} with parameter defaults substituted (what the port check compares)."""
        params = self.parameter_values()
        return {p.name: (p.direction, p.resolved_width(params)) for p in self.ports}

    @property
    def base_dir(self) -> Path:
        """Directory that relative testbench paths are resolved against (the spec file's directory)."""
        return self._base_dir

    def with_base_dir(self, base_dir: str | Path) -> Spec:
        self._base_dir = Path(base_dir).resolve()
        return self

    def module_header(self) -> str:
        """The Verilog-2001 module header (ANSI ports) the design must implement."""
        lines = [f"module {self.name}"]
        if self.parameters:
            params = ",\n".join(f"    parameter {p.name} = {p.default}" for p in self.parameters)
            lines[0] += " #(\n" + params + "\n)"
        ports = []
        for port in self.ports:
            kind = port.direction
            signed = " signed" if port.signed else ""
            rng = (" " + port.verilog_range()) if port.verilog_range() else ""
            ports.append(f"    {kind}{signed}{rng} {port.name}")
        lines.append("(\n" + ",\n".join(ports) + "\n);")
        return " ".join(lines[:1]) + " " + lines[1]

    def testbench_source(self) -> str | None:
        tb = self.testbench
        if tb is None:
            return None
        if tb.source is not None:
            return tb.source
        return self._read(tb.path, "testbench.path")

    def golden_vectors(self) -> list[dict[str, int]]:
        tb = self.testbench
        if tb is None:
            return []
        if tb.vectors is not None:
            return tb.vectors
        if tb.vectors_path is None:
            return []
        try:
            data = json.loads(self._read(tb.vectors_path, "testbench.vectors_path"))
        except json.JSONDecodeError as exc:
            raise SpecError(f"testbench.vectors_path: not JSON ({exc})") from None
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise SpecError("testbench.vectors_path: expected a JSON list of objects")
        return data

    def data_file_paths(self) -> list[Path]:
        return [self._resolve(name, "testbench.data_files") for name in (self.testbench.data_files
                                                                         if self.testbench else [])]

    def _resolve(self, name: str, field: str) -> Path:
        path = (self._base_dir / name).resolve()
        if not path.is_file():
            raise SpecError(f"{field}: no such file {path}")
        return path

    def _read(self, name: str, field: str) -> str:
        return self._resolve(name, field).read_text()


# --- loading and rendering -------------------------------------------------------------------------
def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec YAML file; relative testbench files resolve against its directory."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SpecError(f"cannot read spec {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a YAML mapping at the top level")
    return parse_spec(data, source=str(path)).with_base_dir(path.parent)


def parse_spec(data: dict, source: str = "<spec>") -> Spec:
    """Validate a spec given as a dict; errors become one `SpecError` line naming the first bad field."""
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"{part}: " for part in [".".join(str(p) for p in first["loc"])] if part)
        message = first["msg"].removeprefix("Value error, ")
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SpecError(f"{source}: {where}{message}{more}") from None


def render_markdown(spec: Spec, template: str = "spec.md.j2", module_header: bool = True) -> str:
    """The Markdown spec text the LLM reads, rendered from spec_templates/<template>; `module_header=False`
    leaves out the module header (for prompts that show a design with this interface already)."""
    from spec_templates.templates import render

    return render(template, spec=spec, params=spec.parameter_values(),
                                        header=spec.module_header(), module_header=module_header)


def dump_spec(spec: Spec) -> str:
    """YAML text of a spec (round-trips through `load_spec`)."""
    return yaml.safe_dump(spec.model_dump(exclude_defaults=True), sort_keys=False, width=110)


# --- helpers -------------------------------------------------------------------------------------
def _check_identifier(value: str) -> str:
    if not _IDENT.match(value):
        raise ValueError(f"'{value}' is not a Verilog identifier")
    return value


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Div: operator.floordiv, ast.Pow: operator.pow}


def eval_width(expression: str, parameters: dict[str, int]) -> int:
    """Evaluate a width expression like `8*N+1` over parameter values (integers and + - * / ** only)."""
    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in parameters:
                raise ValueError(f"unknown parameter '{node.id}' in '{expression}'")
            return parameters[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"unsupported width expression '{expression}'")

    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"unsupported width expression '{expression}'") from None
    width = walk(tree)
    if width < 1:
        raise ValueError(f"'{expression}' evaluates to {width} (< 1)")
    return width
