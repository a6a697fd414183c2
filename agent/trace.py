"""Waveform tracing: which signals drive a mismatching output, and their VCD values around the mismatch.

Drivers come from pyverilog's dataflow analysis (data and control dependencies), or from pyslang's syntax
tree when pyverilog cannot parse the design; assignment lines always come from pyslang, so the feedback
can point at source lines.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from agent.vcd import Var, Waveform, show

_BASE = re.compile(r"[A-Za-z_][\w$]*")


@dataclass
class Assignment:
    target: str
    sources: list[str]
    line: int
    text: str


@dataclass
class Trace:
    signal: str
    drivers: list[str] = field(default_factory=list)  # nearest first
    assignments: list[Assignment] = field(default_factory=list)
    table: list[dict[str, str]] = field(default_factory=list)  # rows: time, cycle, signal -> value
    columns: list[str] = field(default_factory=list)
    method: str = ""
    note: str = ""


def assignments(source: str, filename: str = "design.v") -> list[Assignment]:
    """Every continuous, blocking and non-blocking assignment and initialised declaration, with its line."""
    from pyslang import syntax

    kinds = syntax.SyntaxKind
    tree = syntax.SyntaxTree.fromText(source, filename)
    lines = source.splitlines()
    found: list[Assignment] = []

    def identifiers(node) -> list[str]:
        names: list[str] = []

        def visit(child):
            if child.kind == kinds.IdentifierName:
                names.append(child.identifier.valueText)
            return True

        node.visit(visit)
        return list(dict.fromkeys(names))

    def add(target: str, node, where) -> None:
        base = _BASE.match(target.strip())
        if base:
            line = tree.sourceManager.getLineNumber(where.sourceRange.start)
            found.append(Assignment(base.group(0), identifiers(node), line, lines[line - 1].strip()
                                    if 0 < line <= len(lines) else ""))

    def visit(node):
        if node.kind in (kinds.AssignmentExpression, kinds.NonblockingAssignmentExpression):
            add(str(node.left), node.right, node)
        elif node.kind == kinds.Declarator and node.initializer is not None:
            add(node.name.valueText, node.initializer.expr, node)
        return True

    tree.root.visit(visit)
    return found


def pyverilog_drivers(files: list[Path], top: str) -> dict[str, list[str]]:
    """{signal: signals its value depends on} from pyverilog's dataflow analysis (top-level scope only).

    pyverilog writes parser tables into the working directory, so it runs inside a temporary one."""
    from pyverilog.dataflow.dataflow import DFNode, DFTerminal
    from pyverilog.dataflow.dataflow_analyzer import VerilogDataflowAnalyzer

    def terminals(node, out: list[str]) -> None:
        if isinstance(node, DFTerminal):
            out.append(str(node.name).rsplit(".", 1)[-1])
            return
        for value in vars(node).values():
            for child in (value if isinstance(value, (list, tuple)) else [value]):
                if isinstance(child, DFNode):
                    terminals(child, out)

    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="hwagent-pyverilog-") as tmp:
        os.chdir(tmp)
        try:
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
                analyzer = VerilogDataflowAnalyzer([str(f) for f in files], top, preprocess_include=[],
                                                   preprocess_define=[])
                analyzer.generate()
        finally:
            os.chdir(cwd)
    graph: dict[str, list[str]] = {}
    for name, binds in analyzer.getBinddict().items():
        scope = str(name).split(".")
        if len(scope) != 2:
            continue
        sources: list[str] = []
        for bind in binds:
            if bind.tree is not None:
                terminals(bind.tree, sources)
        graph.setdefault(scope[1], [])
        graph[scope[1]] += [s for s in dict.fromkeys(sources) if s not in graph[scope[1]]]
    return graph


def driver_cone(signal: str, graph: dict[str, list[str]], skip: set[str], limit: int = 8,
                depth: int = 4) -> list[str]:
    """Signals feeding `signal`, breadth first (nearest first), at most `limit`."""
    seen, frontier, order = {signal}, [signal], []
    for _ in range(depth):
        following = []
        for name in frontier:
            for source in graph.get(name, []):
                if source not in seen and source not in skip:
                    seen.add(source)
                    order.append(source)
                    following.append(source)
        frontier = following
    return order[:limit]


def trace_mismatch(design: Path, top: str, signal: str, waves: Path | None, mismatch_time_fs: int | None,
                   clock: str | None, signed: set[str], expected: dict[int, str] | None = None,
                   skip: set[str] = frozenset(), rows_before: int = 2, rows_after: int = 1) -> Trace:
    """Drivers of `signal` in `design` and a table of their values around `mismatch_time_fs`.

    `expected` maps femtosecond times to the expected value of `signal` (shown next to what the design
    produced). Without a waveform only the drivers and their assignment lines are returned."""
    base = _BASE.match(signal).group(0)
    source = design.read_text(errors="replace")
    trace = Trace(signal=signal)
    try:
        graph = pyverilog_drivers([design], top)
        trace.method = "pyverilog dataflow"
    except Exception as exc:  # noqa: BLE001 -- pyverilog rejects much SystemVerilog: use pyslang
        graph = {}
        for item in assignments(source):
            graph.setdefault(item.target, [])
            graph[item.target] += [s for s in item.sources if s not in graph[item.target]]
        trace.method = f"pyslang syntax tree (pyverilog: {type(exc).__name__})"
    trace.drivers = driver_cone(base, graph, skip | ({clock} if clock else set()))
    wanted = [base] + trace.drivers
    trace.assignments = [a for a in assignments(source) if a.target in wanted[:4]][:8]
    if waves is None or mismatch_time_fs is None or not Path(waves).is_file():
        trace.note = "no waveform available"
        return trace
    signed = set(signed) | declared_signed(source)
    _fill_table(trace, Waveform(waves), top, base, wanted, mismatch_time_fs, clock, signed, expected or {},
                rows_before, rows_after)
    return trace


def declared_signed(source: str) -> set[str]:
    """Names declared `signed` in the design (VCD files do not say)."""
    names: set[str] = set()
    pattern = r"\b(?:wire|reg|logic|input|output|inout|integer)\b[^;()\n,]*?\bsigned\b([^;\n]*)"
    for declaration in re.finditer(pattern, source):
        text = re.split(r"\b(?:input|output|inout)\b|=", declaration.group(1))[0]
        text = re.sub(r"\[[^\]]*\]", " ", text)
        names |= set(_BASE.findall(text)) - {"signed", "wire", "reg", "logic"}
    return names


def _dut_scope(wave: Waveform, top: str, output: str) -> str | None:
    """The scope holding the design's own signals (not the testbench's copies)."""
    candidates = [name.rsplit(".", 1)[0] for name in wave.vars if name.rsplit(".", 1)[-1] == output]
    own = [scope for scope in candidates if scope.rsplit(".", 1)[-1] in (top, "dut", "uut", "top_module1", "DUT")]
    pick = own or [scope for scope in candidates if not scope.startswith("$")]
    return max(pick, key=lambda scope: scope.count("."), default=None)


def _fill_table(trace: Trace, wave: Waveform, top: str, base: str, wanted: list[str], time_fs: int,
                clock: str | None, signed: set[str], expected: dict[int, str], before: int, after: int) -> None:
    """Values at the clock edges (else the value changes) around the mismatch: the output, its expected
    value, then the drivers; drivers with equal values in every row share one column (`a = b`)."""
    scope = _dut_scope(wave, top, base)
    if scope is None:
        trace.note = f"signal {base} not found in the waveform"
        return
    found: list[tuple[str, Var]] = []
    for name in wanted:
        var = wave.vars.get(f"{scope}.{name}")
        if var is not None and var.times:
            found.append((name, var))
    at = wave.from_fs(time_fs)
    clock_var = wave.vars.get(f"{scope}.{clock}") if clock else None
    points = (wave.rising_edges(clock_var) if clock_var is not None
              else sorted({t for _, var in found for t in var.times}))
    position = max((i for i, t in enumerate(points) if t <= at), default=0)
    times = points[max(0, position - before + 1): position + 1 + after]
    if not times:
        trace.note = "no value changes in the waveform"
        return
    values = {name: [show(var.at(t), var.width, name in signed) for t in times] for name, var in found}
    columns: dict[str, list[str]] = {base: values.pop(base, ["-"] * len(times))}
    if expected:
        ends = [wave.to_fs(t) for t in times[1:]] + [None]
        columns[f"{base} expected"] = [next((expected[e] for e in sorted(expected) if wave.to_fs(t) <= e
                                             and (end is None or e < end)), "") for t, end in zip(times, ends)]
    same: dict[tuple[str, ...], list[str]] = {}
    for name, column in values.items():
        same.setdefault(tuple(column), []).append(name)
    columns |= {" = ".join(names): list(column) for column, names in same.items()}
    ns = all(wave.to_fs(t) % 10**6 == 0 for t in [*times, at])
    unit, scale = ("ns", 10**6) if ns else ("ps", 1000)
    marked = max(t for t in times if t <= at) if times[0] <= at else times[0]
    trace.columns = [f"time ({unit})", *columns]
    for number, time in enumerate(times):
        label = str(wave.to_fs(time) // scale)
        if time == marked:
            label += " <- first mismatch" + (f" (checked at {wave.to_fs(at) // scale})" if time != at else "")
        trace.table.append({f"time ({unit})": label} | {name: column[number] for name, column in columns.items()})
