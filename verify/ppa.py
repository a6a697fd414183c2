"""PPA: Yosys synthesis to the OSU018 standard cells, OpenSTA timing and power, cached by content hash.

Assumptions (stated in every report): ideal clock (no skew, no clock tree), no wire load model, zero input and
output delays, inputs and flip-flop outputs seen by the mapper as driven by the library's smallest buffer, reset
inputs false-pathed, one global switching activity. Area is the sum of standard-cell areas (no placement or
routing). Figures from an academic 0.18 um library are for relative comparison only.

Memories: the standard-cell library has no SRAM. Modules named in `macros` are kept as black boxes and priced
by `SramModel` (a stated model of compiled synchronous SRAM, not a measurement): area per bit, access and setup
time in a generated liberty (so OpenSTA times the paths into and out of them), energy per accessed bit.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

from verify import sandbox, tools
from verify.paths import cache_dir

CACHE_VERSION = 4  # 3: I/O paths timed too; 4: tool versions in the report
ASSUMPTIONS = [
    "ideal clock (no skew, no clock tree)",
    "no wire load model (cell and pin capacitances only)",
    "zero input and output delays",
    "inputs and flip-flop outputs driven by the library's smallest buffer (the mapper buffers high fanout)",
    "reset inputs false-pathed",
    ("critical path: the worst of reg-to-reg, input-to-reg, reg-to-output and input-to-output paths (inputs "
     "arrive and outputs are required at the clock edge)"),
    "one global switching activity for every net",
    "area = sum of standard-cell areas (no placement or routing)",
]
_CLOCK_NAMES = ("clk", "clock", "clk_i", "i_clk", "aclk", "clk_in", "CLK", "sys_clk")
_RESET = re.compile(r"^(rst|reset|rst_n|rstn|resetn|reset_n|arst|arst_n|areset|rst_i|i_rst|rst_ni|aresetn)$", re.IGNORECASE)


class SramModel(BaseModel):
    """Compiled synchronous SRAM at 0.18 um, as a stated model (OSU018 has no memory compiler): one write port
    (lane-masked writes are one port), registered read data, one bank per read port (a 1W2R memory is two 1W1R
    copies), every port accessed every cycle for power."""

    bitcell_um2: float = 4.65           # 6T cell of a commercial 0.18 um process
    array_efficiency: float = 0.6       # cells / macro area (decoders, sense amplifiers, I/O)
    access_ns: float = 2.5              # clock to read data
    setup_ns: float = 0.3               # address, data and enables before the clock
    pin_capacitance_pf: float = 0.01
    access_pj_per_bit: float = 1.0      # energy per bit read or written

    def area_um2(self, bits: int, read_ports: int) -> float:
        return max(read_ports, 1) * bits * self.bitcell_um2 / self.array_efficiency

    def power_mw(self, width: int, read_ports: int, write_ports: int, clock_mhz: float) -> float:
        return (read_ports + write_ports) * width * self.access_pj_per_bit * clock_mhz * 1e-3

    def describe(self) -> str:
        return (f"memories as SRAM macros (model, not measured): {self.bitcell_um2:g} um2 bit cell at "
                f"{self.array_efficiency:.0%} array efficiency, one bank per read port, {self.access_ns:g} ns access, "
                f"{self.setup_ns:g} ns setup, {self.access_pj_per_bit:g} pJ per accessed bit with every port "
                "busy every cycle")


class MacroReport(BaseModel):
    """One memory module kept as an SRAM macro: its shape, instances and modelled area and power."""

    module: str
    cell: str
    parameters: dict[str, int] = Field(default_factory=dict)
    instances: int
    width: int
    words: int
    read_ports: int
    write_ports: int
    area_um2: float          # all instances
    power_mw: float          # all instances


class PPAReport(BaseModel):
    top: str
    technology: str
    tool_versions: dict[str, str] = Field(default_factory=dict)  # the figures hold for these (yosys, opensta)
    clock_mhz: float
    activity: float
    clock_port: str | None = None
    area_um2: float | None = None
    cells: int | None = None
    flops: int | None = None
    transistors: int | None = None
    logic_depth: int | None = None
    critical_path_ns: float | None = None
    critical_path: str | None = None  # reg-to-reg | input-to-reg | reg-to-output | input-to-output
    fmax_mhz: float | None = None
    slack_ns: float | None = None
    power_mw: float | None = None
    power_breakdown_mw: dict[str, float] = Field(default_factory=dict)
    parameters: dict[str, int] = Field(default_factory=dict)
    macros: list[MacroReport] = Field(default_factory=list)
    macro_area_um2: float = 0.0
    cells_by_type: dict[str, int] = Field(default_factory=dict)
    assumptions: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    netlist: str | None = None
    cached: bool = False
    wall_s: float = 0.0

    @property
    def macro_instances(self) -> int:
        return sum(m.instances for m in self.macros)

    def table_rows(self) -> list[tuple[str, str]]:
        def fmt(value, unit="", digits=2):
            return "n/a" if value is None else (f"{value:,.{digits}f}{unit}" if isinstance(value, float)
                                                else f"{value:,}{unit}")
        return [
            ("area", fmt(self.area_um2, " um2", 1)), ("cells", fmt(self.cells)), ("flops", fmt(self.flops)),
            ("transistors", fmt(self.transistors)), ("logic depth", fmt(self.logic_depth)),
            *([("SRAM macros (model)", f"{self.macro_instances} instances, {self.macro_area_um2:,.1f} um2")]
              if self.macros else []),
            ("critical path", fmt(self.critical_path_ns, " ns", 3) + (f" ({self.critical_path})"
                                                                       if self.critical_path else "")),
            ("fmax", fmt(self.fmax_mhz, " MHz", 1)),
            (f"power @ {self.clock_mhz:g} MHz, activity {self.activity:g}", fmt(self.power_mw, " mW", 3)),
        ]


    def tools_label(self) -> str:
        """`Yosys 0.23, OpenSTA 2.0.17`: cell counts, area and timing change between tool versions."""
        names = {"yosys": "Yosys", "opensta": "OpenSTA"}
        return ", ".join(f"{names.get(tool, tool)} {version}" for tool, version in self.tool_versions.items())


def _tool_versions(yosys: tools.Tool, sta: tools.Tool) -> dict[str, str]:
    return {tool.name: tool.version or "unknown" for tool in (yosys, sta) if tool.found}


class SynthesisError(RuntimeError):
    """Yosys could not synthesize the design; the message carries its error line."""


def _cache_dir() -> Path:
    return cache_dir("ppa")


def _cache_key(files: list[Path], options: dict) -> str:
    digest = hashlib.sha256(json.dumps(options | {"v": CACHE_VERSION}, sort_keys=True).encode())
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _liberty_cells(liberty: str) -> list[tuple[str, str]]:
    """(name, body) of every cell in a liberty file."""
    text = Path(liberty).read_text(errors="replace")
    names = [(m.start(), m.group(1)) for m in re.finditer(r"\bcell\s*\(\s*\"?(\w+)\"?\s*\)", text)]
    return [(name, text[start:end]) for (start, name), (end, _) in zip(names, names[1:] + [(len(text), "")])]


@functools.cache
def _sequential_cells(liberty: str) -> frozenset[str]:
    return frozenset(name for name, body in _liberty_cells(liberty) if re.search(r"\b(ff|latch)\s*\(", body))


@functools.cache
def _buffer_cell(liberty: str) -> str | None:
    """The smallest non-inverting buffer (function "A"), which drives inputs and flip-flop outputs for the mapper."""
    buffers = []
    for name, body in _liberty_cells(liberty):
        area = re.search(r"\barea\s*:\s*([\d.]+)", body)
        if re.search(r'\bfunction\s*:\s*"\(?A\)?"', body) and area and "three_state" not in body:
            buffers.append((float(area.group(1)), name))
    return min(buffers)[1] if buffers else None


def _abc_script(period_ps: int) -> str:
    """ABC mapping with delay target, fanout buffering and gate sizing (the plain `abc -liberty` leaves
    high-fanout nets unbuffered, which makes timing meaningless)."""
    return (f"+strash;ifraig;dc2;strash;&get,-n;&dch,-f;&nf,-D,{period_ps};&put;buffer,-p;"
            f"upsize,-D,{period_ps};dnsize,-D,{period_ps}")


def synthesize(files: list[str | Path], top: str, clock_mhz: float = 100.0, activity: float = 0.1,
               clock: str | None = None, use_cache: bool = True, timeout_s: float = 900.0,
               work_dir: str | Path | None = None, parameters: dict[str, int] | None = None,
               macros: tuple[str, ...] | list[str] = (), sram: SramModel | None = None) -> PPAReport:
    """Synthesize `top` from `files` and report area, cells, flops, transistors, depth, timing and power.

    `parameters` override the top's parameters; `macros` names memory modules to keep as SRAM macros priced by
    `sram` (default `SramModel()`) instead of synthesizing them into flip-flops."""
    start = time.monotonic()
    paths = [Path(f).resolve() for f in files]
    missing_files = [str(p) for p in paths if not p.is_file()]
    if missing_files:
        raise FileNotFoundError(f"no such file: {', '.join(missing_files)}")
    if clock_mhz <= 0 or not 0 <= activity <= 1:
        raise ValueError("clock_mhz must be > 0 and activity within [0, 1]")
    parameters, macros = dict(parameters or {}), tuple(macros)
    sram = sram or SramModel()
    yosys = tools.require(tools.yosys())
    liberty, sta = tools.liberty(), tools.opensta()
    options = {"top": top, "clock_mhz": clock_mhz, "activity": activity, "clock": clock,
               "liberty": liberty.path, "sta": bool(sta.found), "yosys": yosys.version,
               "parameters": parameters, "macros": macros, "sram": sram.model_dump() if macros else None}
    key = _cache_key(paths, options)
    cache_file = _cache_dir() / f"{key}.json"
    if use_cache and cache_file.is_file():
        report = PPAReport.model_validate_json(cache_file.read_text())
        report.cached, report.wall_s = True, time.monotonic() - start
        return report

    with tempfile.TemporaryDirectory(prefix="hwagent-ppa-", dir=work_dir) as tmp:
        tmp = Path(tmp)
        report = PPAReport(top=top, technology="OSU018 0.18um (qflow)" if liberty.found else "generic Yosys cells",
                           tool_versions=_tool_versions(yosys, sta), clock_mhz=clock_mhz, activity=activity,
                           assumptions=list(ASSUMPTIONS), parameters=parameters)
        limits = sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 10, memory_bytes=16384 * sandbox.MiB)
        elaborate = _elaborate_lines(paths, top, parameters)
        shapes = _macro_shapes(yosys, elaborate, macros, tmp, limits) if macros else []
        _run_yosys(yosys, elaborate, shapes, liberty, clock_mhz, tmp, report, limits)
        if shapes:
            (tmp / "macros.lib").write_text(_macro_liberty(shapes, sram))
            _price_macros(shapes, sram, report)
        if liberty.found and sta.found:
            _run_sta(sta, liberty, top, tmp, report, clock, timeout_s)
        else:
            report.missing += ["critical_path_ns", "fmax_mhz", "power_mw"]
        if shapes and report.power_mw is not None:
            report.power_breakdown_mw["macros"] = sum(m.power_mw for m in report.macros)
            report.power_mw = round(report.power_mw + report.power_breakdown_mw["macros"], 6)
        if liberty.found:
            netlist_dir = _cache_dir() / "netlists"
            netlist_dir.mkdir(parents=True, exist_ok=True)
            target = netlist_dir / f"{top}-{key}.v"
            target.write_text((tmp / "netlist.v").read_text())
            report.netlist = str(target)
    if not liberty.found:
        report.assumptions.append(f"liberty not found ({liberty.install}): no area, timing or power")
    if not sta.found:
        report.assumptions.append(f"OpenSTA not found ({sta.install}): no timing or power")
    report.wall_s = time.monotonic() - start
    if use_cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(report.model_dump_json(indent=1))
    return report


def _elaborate_lines(paths: list[Path], top: str, parameters: dict[str, int]) -> list[str]:
    """Read and elaborate. Parameter overrides go through `chparam` on eagerly read modules (Yosys 0.23 asserts
    on `hierarchy -chparam` after `read_verilog -defer` when a submodule makes it re-derive the top)."""
    if not parameters:
        return [*(f"read_verilog -sv -defer {json.dumps(str(p))}" for p in paths), f"hierarchy -check -top {top}"]
    sets = " ".join(f"-set {name} {int(value)}" for name, value in parameters.items())
    return [*(f"read_verilog -sv {json.dumps(str(p))}" for p in paths), f"chparam {sets} {top}",
            f"hierarchy -check -top {top}", f"rename -top {top}"]


def _yosys(yosys: tools.Tool, script: list[str], tmp: Path, limits: sandbox.Limits, name: str) -> None:
    (tmp / f"{name}.ys").write_text("\n".join(script) + "\n")
    read = sorted({str(Path(p).parent) for line in script for p in re.findall(r'"(/[^"]+)"', line)})
    ran = sandbox.run([yosys.path, "-q", "-l", f"{name}.log", "-s", f"{name}.ys"], tmp, limits, writable=[tmp],
                      readable=read)
    if ran.timed_out:
        raise SynthesisError(f"yosys timed out after {limits.wall_s:.0f} s")
    if ran.returncode != 0:
        log_file = tmp / f"{name}.log"
        log = log_file.read_text(errors="replace") if log_file.exists() else ran.stderr
        errors = [line for line in log.splitlines() if "ERROR" in line] or log.strip().splitlines()[-1:]
        raise SynthesisError(f"yosys failed: {errors[0].strip() if errors else 'unknown error'}")


class _MacroShape(BaseModel):
    module: str          # HDL name
    derived: str         # Yosys name of this parameterisation
    cell: str            # liberty cell name
    parameters: dict[str, int]
    ports: list[tuple[str, str, int]]   # (name, direction, width)
    width: int
    words: int
    read_ports: int
    write_ports: int
    instances: int


def _macro_shapes(yosys: tools.Tool, elaborate: list[str], macros: tuple[str, ...], tmp: Path,
                  limits: sandbox.Limits) -> list[_MacroShape]:
    """Every parameterisation of the macro modules under the top, with its ports and memory shape."""
    _yosys(yosys, [*elaborate, "proc", "write_json elaborated.json"], tmp, limits, "elaborate")
    modules = json.loads((tmp / "elaborated.json").read_text())["modules"]
    uses: dict[str, int] = {}
    for module in modules.values():
        for cell in module.get("cells", {}).values():
            uses[cell["type"]] = uses.get(cell["type"], 0) + 1
    shapes = []
    for derived, module in modules.items():
        name = module.get("attributes", {}).get("hdlname", derived).lstrip("\\")
        if name not in macros:
            continue
        memories = list(module.get("memories", {}).values())
        if not memories:
            raise SynthesisError(f"macro {name} holds no memory array (a reg [W-1:0] mem [0:D-1])")
        cells = [c["type"] for c in module.get("cells", {}).values()]
        params = {k: int(v, 2) for k, v in module.get("parameter_default_values", {}).items()
                  if set(v) <= {"0", "1"}}
        width = max(m["width"] for m in memories)
        words = sum(m["size"] * m["width"] for m in memories) // width
        suffix = hashlib.sha256(derived.encode()).hexdigest()[:6]
        shapes.append(_MacroShape(
            module=name, derived=derived, cell=f"{name}_{width}x{words}_{suffix}", parameters=params,
            ports=[(port, info["direction"], len(info["bits"])) for port, info in module["ports"].items()],
            width=width, words=words, read_ports=sum(t.startswith("$memrd") for t in cells),
            write_ports=int(any(t.startswith("$memwr") for t in cells)), instances=uses.get(derived, 0)))
    unknown = set(macros) - {s.module for s in shapes}
    if unknown:
        raise SynthesisError(f"macro module(s) not instantiated under the top: {', '.join(sorted(unknown))}")
    return shapes


def _macro_liberty(shapes: list[_MacroShape], sram: SramModel) -> str:
    """A liberty file with one cell per macro shape: clock pin, setup checks on inputs, clock-to-output arcs."""
    def table(kind: str, value: float) -> str:
        return f'{kind} (scalar) {{ values ("{value}"); }}'

    def setup(clock: str) -> str:
        return (f'timing () {{ related_pin : "{clock}"; timing_type : setup_rising; '
                f'{table("rise_constraint", sram.setup_ns)} {table("fall_constraint", sram.setup_ns)} }}')

    def clock_to_output(clock: str) -> str:
        return (f'timing () {{ related_pin : "{clock}"; timing_type : rising_edge; '
                f'{table("cell_rise", sram.access_ns)} {table("cell_fall", sram.access_ns)} '
                f'{table("rise_transition", 0.2)} {table("fall_transition", 0.2)} }}')

    widths = sorted({w for s in shapes for _, _, w in s.ports if w > 1})
    lines = ["library (hwagent_sram_macros) {", "  delay_model : table_lookup;",
             '  time_unit : "1ns"; voltage_unit : "1V"; current_unit : "1mA"; capacitive_load_unit (1, pf);',
             '  leakage_power_unit : "1nW"; nom_voltage : 1.8; nom_temperature : 25; nom_process : 1;']
    lines += [f"  input_threshold_pct_{e} : 50; output_threshold_pct_{e} : 50; slew_lower_threshold_pct_{e} : 10;"
              f" slew_upper_threshold_pct_{e} : 90;" for e in ("rise", "fall")]
    lines += [f"  type (bus{w}) {{ base_type : array; data_type : bit; bit_width : {w}; bit_from : {w - 1}; "
              "bit_to : 0; downto : true; }" for w in widths]
    for shape in shapes:
        clock = next((n for n, d, w in shape.ports if d == "input" and w == 1 and n in _CLOCK_NAMES), None)
        if clock is None:
            raise SynthesisError(f"macro {shape.module} has no clock input ({', '.join(_CLOCK_NAMES[:3])}, ...)")
        lines += [f"  cell ({shape.cell}) {{",
                  f"    area : {sram.area_um2(shape.width * shape.words, shape.read_ports):.1f};",
                  f"    pin ({clock}) {{ direction : input; clock : true; capacitance : {sram.pin_capacitance_pf}; }}"]
        for name, direction, width in shape.ports:
            if name == clock:
                continue
            group = f"bus ({name}) {{ bus_type : bus{width};" if width > 1 else f"pin ({name}) {{"
            if direction == "input":
                lines.append(f"    {group} direction : input; capacitance : {sram.pin_capacitance_pf}; "
                             f"{setup(clock)} }}")
            else:
                lines.append(f"    {group} direction : output; {clock_to_output(clock)} }}")
        lines.append("  }")
    return "\n".join(lines + ["}"]) + "\n"


def _price_macros(shapes: list[_MacroShape], sram: SramModel, report: PPAReport) -> None:
    for s in shapes:
        report.macros.append(MacroReport(
            module=s.module, cell=s.cell, parameters=s.parameters, instances=s.instances, width=s.width,
            words=s.words, read_ports=s.read_ports, write_ports=s.write_ports,
            area_um2=s.instances * sram.area_um2(s.width * s.words, s.read_ports),
            power_mw=s.instances * sram.power_mw(s.width, s.read_ports, s.write_ports, report.clock_mhz)))
    report.macro_area_um2 = sum(m.area_um2 for m in report.macros)
    if report.area_um2 is not None:
        report.area_um2 += report.macro_area_um2
    report.assumptions.append(sram.describe())


def _run_yosys(yosys: tools.Tool, elaborate: list[str], shapes: list[_MacroShape], liberty: tools.Tool,
               clock_mhz: float, tmp: Path, report: PPAReport, limits: sandbox.Limits) -> None:
    top = report.top
    script = list(elaborate)
    if shapes:
        script.append("blackbox " + " ".join(s.derived for s in shapes))
    script += [f"synth -flatten -top {top}", "tee -q -o stat_cmos.txt stat -tech cmos", "tee -q -o ltp.txt ltp -noff"]
    if liberty.found:
        lib = json.dumps(liberty.path)
        period_ps = max(1, int(1e6 / clock_mhz))
        buffer = _buffer_cell(liberty.path)
        if buffer:
            (tmp / "abc.constr").write_text(f"set_driving_cell {buffer}\n")
        constr = " -constr abc.constr" if buffer else ""
        script += [f"dfflibmap -liberty {lib}", f"abc{constr} -liberty {lib} -script {_abc_script(period_ps)}",
                   "opt_clean -purge",
                   f"tee -q -o stat.json stat -json -liberty {lib}", f"tee -q -o stat_area.txt stat -liberty {lib}",
                   "write_verilog -noattr -noexpr -simple-lhs netlist.v"]
    else:
        script += ["tee -q -o stat.json stat -json"]
    _yosys(yosys, script, tmp, limits, "synth")
    stats = json.loads((tmp / "stat.json").read_text())
    module = stats["modules"].get(f"\\{top}") or next(iter(stats["modules"].values()))
    report.cells = module.get("num_cells")
    report.cells_by_type = {k.lstrip("\\$"): v for k, v in module.get("num_cells_by_type", {}).items()}
    if liberty.found:
        area = re.search(rf"Chip area for (?:top )?module '?\\?{re.escape(top)}'?: ([\d.]+)",
                         (tmp / "stat_area.txt").read_text())
        report.area_um2 = float(area.group(1)) if area else None
        sequential = _sequential_cells(liberty.path)
        report.flops = sum(n for cell, n in report.cells_by_type.items() if cell in sequential)
        if shapes:
            netlist = (tmp / "netlist.v").read_text()
            for s in shapes:
                netlist = re.sub(rf"^(\s*)\\?{re.escape(s.derived)}\s", rf"\g<1>{s.cell} ", netlist,
                                 flags=re.MULTILINE)
            (tmp / "netlist.v").write_text(netlist)
    else:
        report.flops = sum(n for cell, n in report.cells_by_type.items() if "DFF" in cell.upper())
        report.missing.append("area_um2")
    cmos = re.search(r"Estimated number of transistors:\s+(\d+)", (tmp / "stat_cmos.txt").read_text())
    report.transistors = int(cmos.group(1)) if cmos else None
    depth = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", (tmp / "ltp.txt").read_text())
    report.logic_depth = int(depth.group(1)) if depth else None


def _path_kind(sta_output: str) -> str | None:
    """What the reported worst path runs between, from OpenSTA's Startpoint / Endpoint lines."""
    start = re.search(r"^Startpoint: .*\((.*)\)", sta_output, re.MULTILINE)
    end = re.search(r"^Endpoint: .*\((.*)\)", sta_output, re.MULTILINE)
    if not start or not end:
        return None
    begin = "input" if "input port" in start.group(1) else "reg"
    finish = "output" if "output port" in end.group(1) else "reg"
    return f"{begin}-to-{finish}"


def _netlist_inputs(netlist: str) -> list[str]:
    return re.findall(r"^\s*input\s+(?:\[[^\]]+\]\s*)?\\?(\S+?)\s*;", netlist, re.MULTILINE)


def _run_sta(sta: tools.Tool, liberty: tools.Tool, top: str, tmp: Path, report: PPAReport, clock: str | None,
             timeout_s: float) -> None:
    inputs = _netlist_inputs((tmp / "netlist.v").read_text())
    clock_port = clock if clock in inputs else next((name for name in _CLOCK_NAMES if name in inputs), None)
    if clock and clock not in inputs:
        raise ValueError(f"clock port {clock!r} is not an input of {top} (inputs: {', '.join(inputs[:12])})")
    report.clock_port = clock_port
    has_flops = bool(report.flops) or bool(report.macros)
    period = 1000.0 / report.clock_mhz
    resets = [name for name in inputs if _RESET.match(name)]
    lines = [f"read_liberty {json.dumps(liberty.path)}"]
    if (tmp / "macros.lib").is_file():
        lines.append("read_liberty macros.lib")
    lines += ["read_verilog netlist.v", f"link_design {top}"]
    data_inputs = "[all_inputs]"
    if clock_port:
        data_inputs = f"[delete_from_list [all_inputs] [get_ports {{{clock_port}}}]]"
        lines += [f"create_clock -name clk -period {period} [get_ports {{{clock_port}}}]",
                  f"set_input_delay 0 -clock clk {data_inputs}"]
    else:
        lines += [f"create_clock -name clk -period {period}", "set_input_delay 0 -clock clk [all_inputs]"]
    buffer = _buffer_cell(liberty.path)
    if buffer:
        lines.append(f"set_driving_cell -lib_cell {buffer} {data_inputs}")
    lines += ["set_output_delay 0 -clock clk [all_outputs]"]
    lines += [f"set_false_path -from [get_ports {{{name}}}]" for name in resets]
    lines.append("report_checks -path_delay max -digits 4")  # the worst of reg-to-reg and I/O paths
    lines += [f"set_power_activity -global -activity {report.activity}",
              f"set_power_activity -input -activity {report.activity}", "report_power -digits 6", "exit"]
    (tmp / "sta.tcl").write_text("\n".join(lines) + "\n")
    ran = sandbox.run([sta.path, "-no_splash", "-exit", "sta.tcl"], tmp,
                      sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 10), writable=[tmp],
                      readable=[str(Path(liberty.path).parent)])
    out = ran.stdout + ran.stderr
    if ran.returncode != 0 and "slack" not in out:
        raise SynthesisError(f"OpenSTA failed: {(out.strip().splitlines() or ['no output'])[-1]}")
    slack = re.search(r"(-?\d+\.\d+)\s+slack", out)
    arrival = re.search(r"(-?\d+\.\d+)\s+data arrival time", out)
    report.critical_path = _path_kind(out)
    if slack and clock_port and has_flops:
        report.slack_ns = float(slack.group(1))
        report.critical_path_ns = round(period - report.slack_ns, 4)
    elif arrival:
        report.critical_path_ns = float(arrival.group(1))
        report.slack_ns = float(slack.group(1)) if slack else None
    else:
        report.missing.append("critical_path_ns (no timing path found)")
    if report.critical_path_ns and report.critical_path_ns > 0:
        report.fmax_mhz = round(1000.0 / report.critical_path_ns, 2)
    power = re.search(r"^Total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out, re.MULTILINE)
    if power:
        internal, switching, leakage, total = (float(x) * 1e3 for x in power.groups())
        report.power_mw = round(total, 6)
        report.power_breakdown_mw = {"internal": internal, "switching": switching, "leakage": leakage}
    else:
        report.missing.append("power_mw")
