"""PPA: Yosys synthesis to the OSU018 standard cells, OpenSTA timing and power, cached by content hash.

Assumptions (stated in every report): ideal clock (no skew, no clock tree), no wire load model, zero input and
output delays, reset inputs false-pathed, one global switching activity. Area is the sum of standard-cell areas
(no placement or routing). Figures from an academic 0.18 um library are for relative comparison only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

from verify import sandbox, tools

CACHE_VERSION = 1
ASSUMPTIONS = [
    "ideal clock (no skew, no clock tree)",
    "no wire load model (cell and pin capacitances only)",
    "zero input and output delays",
    "reset inputs false-pathed",
    "critical path reg-to-reg when the design has registers, else input-to-output",
    "one global switching activity for every net",
    "area = sum of standard-cell areas (no placement or routing)",
]
_CLOCK_NAMES = ("clk", "clock", "clk_i", "i_clk", "aclk", "clk_in", "CLK", "sys_clk")
_RESET = re.compile(r"^(rst|reset|rst_n|rstn|resetn|reset_n|arst|arst_n|areset|rst_i|i_rst|rst_ni|aresetn)$", re.IGNORECASE)


class PPAReport(BaseModel):
    top: str
    technology: str
    clock_mhz: float
    activity: float
    clock_port: str | None = None
    area_um2: float | None = None
    cells: int | None = None
    flops: int | None = None
    transistors: int | None = None
    logic_depth: int | None = None
    critical_path_ns: float | None = None
    fmax_mhz: float | None = None
    slack_ns: float | None = None
    power_mw: float | None = None
    power_breakdown_mw: dict[str, float] = Field(default_factory=dict)
    cells_by_type: dict[str, int] = Field(default_factory=dict)
    assumptions: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    netlist: str | None = None
    cached: bool = False
    wall_s: float = 0.0

    def table_rows(self) -> list[tuple[str, str]]:
        def fmt(value, unit="", digits=2):
            return "n/a" if value is None else (f"{value:,.{digits}f}{unit}" if isinstance(value, float)
                                                else f"{value:,}{unit}")
        return [
            ("area", fmt(self.area_um2, " um2", 1)), ("cells", fmt(self.cells)), ("flops", fmt(self.flops)),
            ("transistors", fmt(self.transistors)), ("logic depth", fmt(self.logic_depth)),
            ("critical path", fmt(self.critical_path_ns, " ns", 3)), ("fmax", fmt(self.fmax_mhz, " MHz", 1)),
            (f"power @ {self.clock_mhz:g} MHz, activity {self.activity:g}", fmt(self.power_mw, " mW", 3)),
        ]


class SynthesisError(RuntimeError):
    """Yosys could not synthesize the design; the message carries its error line."""


def _cache_dir() -> Path:
    return Path(os.environ.get("HWAGENT_CACHE_DIR", Path.home() / ".cache" / "hwagent")) / "ppa"


def _cache_key(files: list[Path], options: dict) -> str:
    digest = hashlib.sha256(json.dumps(options | {"v": CACHE_VERSION}, sort_keys=True).encode())
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


@functools.cache
def _sequential_cells(liberty: str) -> frozenset[str]:
    text = Path(liberty).read_text(errors="replace")
    names = [(m.start(), m.group(1)) for m in re.finditer(r"\bcell\s*\(\s*\"?(\w+)\"?\s*\)", text)]
    sequential = set()
    for (start, name), (end, _) in zip(names, names[1:] + [(len(text), "")]):
        if re.search(r"\b(ff|latch)\s*\(", text[start:end]):
            sequential.add(name)
    return frozenset(sequential)


def _abc_script(period_ps: int) -> str:
    """ABC mapping with delay target, fanout buffering and gate sizing (the plain `abc -liberty` leaves
    high-fanout nets unbuffered, which makes timing meaningless)."""
    return (f"+strash;ifraig;dc2;strash;&get,-n;&dch,-f;&nf,-D,{period_ps};&put;buffer,-p;upsize,-D,{period_ps};dnsize,-D,{period_ps}"
            )


def synthesize(files: list[str | Path], top: str, clock_mhz: float = 100.0, activity: float = 0.1,
               clock: str | None = None, use_cache: bool = True, timeout_s: float = 900.0,
               work_dir: str | Path | None = None) -> PPAReport:
    """Synthesize `top` from `files` and report area, cells, flops, transistors, depth, timing and power."""
    start = time.monotonic()
    paths = [Path(f).resolve() for f in files]
    missing_files = [str(p) for p in paths if not p.is_file()]
    if missing_files:
        raise FileNotFoundError(f"no such file: {', '.join(missing_files)}")
    if clock_mhz <= 0 or not 0 <= activity <= 1:
        raise ValueError("clock_mhz must be > 0 and activity within [0, 1]")
    yosys = tools.require(tools.yosys())
    liberty, sta = tools.liberty(), tools.opensta()
    options = {"top": top, "clock_mhz": clock_mhz, "activity": activity, "clock": clock,
               "liberty": liberty.path, "sta": bool(sta.found), "yosys": yosys.version}
    key = _cache_key(paths, options)
    cache_file = _cache_dir() / f"{key}.json"
    if use_cache and cache_file.is_file():
        report = PPAReport.model_validate_json(cache_file.read_text())
        report.cached, report.wall_s = True, time.monotonic() - start
        return report

    with tempfile.TemporaryDirectory(prefix="hwagent-ppa-", dir=work_dir) as tmp:
        tmp = Path(tmp)
        report = PPAReport(top=top, technology="OSU018 0.18um (qflow)" if liberty.found else "generic Yosys cells",
                           clock_mhz=clock_mhz, activity=activity, assumptions=list(ASSUMPTIONS))
        _run_yosys(yosys, paths, top, liberty, clock_mhz, tmp, report, timeout_s)
        if liberty.found and sta.found:
            _run_sta(sta, liberty, top, tmp, report, clock, timeout_s)
        else:
            report.missing += ["critical_path_ns", "fmax_mhz", "power_mw"]
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


def _run_yosys(yosys: tools.Tool, paths: list[Path], top: str, liberty: tools.Tool, clock_mhz: float, tmp: Path,
               report: PPAReport, timeout_s: float) -> None:
    reads = "\n".join(f"read_verilog -sv -defer {json.dumps(str(p))}" for p in paths)
    script = [reads, f"hierarchy -check -top {top}", f"synth -flatten -top {top}",
              "tee -q -o stat_cmos.txt stat -tech cmos", "tee -q -o ltp.txt ltp -noff"]
    if liberty.found:
        lib = json.dumps(liberty.path)
        period_ps = max(1, int(1e6 / clock_mhz))
        script += [f"dfflibmap -liberty {lib}", f"abc -liberty {lib} -script {_abc_script(period_ps)}",
                   "opt_clean -purge", f"tee -q -o stat.json stat -json -liberty {lib}",
                   f"tee -q -o stat_area.txt stat -liberty {lib}",
                   "write_verilog -noattr -noexpr netlist.v"]
    else:
        script += ["tee -q -o stat.json stat -json"]
    (tmp / "synth.ys").write_text("\n".join(script) + "\n")
    ran = sandbox.run([yosys.path, "-q", "-l", "yosys.log", "-s", "synth.ys"], tmp,
                      sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 10, memory_bytes=16384 * sandbox.MiB))
    if ran.timed_out:
        raise SynthesisError(f"yosys timed out after {timeout_s:.0f} s")
    if ran.returncode != 0:
        log = (tmp / "yosys.log").read_text(errors="replace") if (tmp / "yosys.log").exists() else ran.stderr
        errors = [line for line in log.splitlines() if "ERROR" in line] or log.strip().splitlines()[-1:]
        raise SynthesisError(f"yosys failed: {errors[0].strip() if errors else 'unknown error'}")
    stats = json.loads((tmp / "stat.json").read_text())
    module = next(iter(stats["modules"].values()))
    report.cells = module.get("num_cells")
    report.cells_by_type = {k.lstrip("\\$"): v for k, v in module.get("num_cells_by_type", {}).items()}
    if liberty.found:
        area = re.search(r"Chip area for module \S+: ([\d.]+)", (tmp / "stat_area.txt").read_text())
        report.area_um2 = float(area.group(1)) if area else None
        sequential = _sequential_cells(liberty.path)
        report.flops = sum(n for cell, n in report.cells_by_type.items() if cell in sequential)
    else:
        report.flops = sum(n for cell, n in report.cells_by_type.items() if "DFF" in cell.upper())
        report.missing.append("area_um2")
    cmos = re.search(r"Estimated number of transistors:\s+(\d+)", (tmp / "stat_cmos.txt").read_text())
    report.transistors = int(cmos.group(1)) if cmos else None
    depth = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", (tmp / "ltp.txt").read_text())
    report.logic_depth = int(depth.group(1)) if depth else None


def _netlist_inputs(netlist: str) -> list[str]:
    return re.findall(r"^\s*input\s+(?:\[[^\]]+\]\s*)?\\?(\S+?)\s*;", netlist, re.MULTILINE)


def _run_sta(sta: tools.Tool, liberty: tools.Tool, top: str, tmp: Path, report: PPAReport, clock: str | None,
             timeout_s: float) -> None:
    inputs = _netlist_inputs((tmp / "netlist.v").read_text())
    clock_port = clock if clock in inputs else next((name for name in _CLOCK_NAMES if name in inputs), None)
    if clock and clock not in inputs:
        raise ValueError(f"clock port {clock!r} is not an input of {top} (inputs: {', '.join(inputs[:12])})")
    report.clock_port = clock_port
    has_flops = bool(report.flops)
    period = 1000.0 / report.clock_mhz
    resets = [name for name in inputs if _RESET.match(name)]
    lines = [f"read_liberty {json.dumps(liberty.path)}", "read_verilog netlist.v", f"link_design {top}"]
    if clock_port:
        lines += [f"create_clock -name clk -period {period} [get_ports {{{clock_port}}}]",
                  f"set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports {{{clock_port}}}]]"]
    else:
        lines += [f"create_clock -name clk -period {period}", "set_input_delay 0 -clock clk [all_inputs]"]
    lines += ["set_output_delay 0 -clock clk [all_outputs]"]
    lines += [f"set_false_path -from [get_ports {{{name}}}]" for name in resets]
    if clock_port and has_flops:
        lines.append("report_checks -from [all_registers -clock_pins] -to [all_registers -data_pins] "
                     "-path_delay max -digits 4")
    else:
        lines.append("report_checks -path_delay max -digits 4")
    lines += [f"set_power_activity -global -activity {report.activity}",
              f"set_power_activity -input -activity {report.activity}", "report_power -digits 6", "exit"]
    (tmp / "sta.tcl").write_text("\n".join(lines) + "\n")
    ran = sandbox.run([sta.path, "-no_splash", "-exit", "sta.tcl"], tmp,
                      sandbox.Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 10))
    out = ran.stdout + ran.stderr
    if ran.returncode != 0 and "slack" not in out:
        raise SynthesisError(f"OpenSTA failed: {(out.strip().splitlines() or ['no output'])[-1]}")
    slack = re.search(r"(-?\d+\.\d+)\s+slack", out)
    arrival = re.search(r"(-?\d+\.\d+)\s+data arrival time", out)
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
