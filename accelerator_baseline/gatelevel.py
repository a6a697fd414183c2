"""Gate-level check: simulate the Yosys/OSU018 netlist of a unit next to its RTL and compare every cycle.

`check_unit(name)` synthesizes the unit with verify.ppa (the netlist is what the PPA numbers describe),
renames the netlist module to `<top>_gl`, wraps RTL and netlist in one harness (shared inputs, outputs
`rtl_<port>` / `gl_<port>`) and runs accelerator_baseline/tb/tb_gatelevel.py on Icarus with the OSU018
cell models (zero-delay functional simulation; specify delays are ignored).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from accelerator_baseline.sim import rtl_files, run_unit

CELL_MODELS = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.v")


@dataclass(frozen=True)
class Unit:
    """A unit to check: RTL files, module, parameter values (baked into a wrapper) and port widths."""

    module: str
    files: tuple[str, ...]
    inputs: dict[str, int]
    outputs: dict[str, int]
    parameters: dict[str, int] = field(default_factory=dict)
    constraints: dict[str, tuple[int, int]] = field(default_factory=dict)  # input -> (lo, hi) unsigned range


UNITS = {
    "pe": Unit("pe", ("pe.v",), {"rst": 1, "a_in": 8, "b_in": 8, "v_in": 1, "first_in": 1, "last_in": 1},
               {"a_out": 8, "b_out": 8, "v_out": 1, "first_out": 1, "last_out": 1, "result": 32}),
    "requant": Unit("requant", ("requant.v",),
                    {"rst": 1, "in_valid": 1, "in_vec": 2 * 40, "res_vec": 2 * 8, "res_en": 1, "mult": 15,
                     "shift": 6},
                    {"out_valid": 1, "out_vec": 2 * 16}, {"LANES": 2, "IN_W": 40}, {"shift": (1, 63)}),
}


def wrapper_source(unit: Unit) -> str:
    """A parameter-free module `<module>_w` around the unit (synthesis takes no parameter overrides)."""
    ports = ["clk"] + list(unit.inputs) + list(unit.outputs)
    decl = ["    input  wire clk;"]
    decl += [f"    input  wire [{w - 1}:0] {n};" for n, w in unit.inputs.items()]
    decl += [f"    output wire [{w - 1}:0] {n};" for n, w in unit.outputs.items()]
    params = ", ".join(f".{k}({v})" for k, v in unit.parameters.items())
    conns = ", ".join(f".{p}({p})" for p in ports)
    return (f"module {unit.module}_w ({', '.join(ports)});\n" + "\n".join(decl) +
            f"\n    {unit.module} #({params}) u ({conns});\nendmodule\n")


def harness_source(unit: Unit, rtl_top: str, gl_top: str) -> str:
    ports = ["clk"] + list(unit.inputs) + [f"{k}_{n}" for n in unit.outputs for k in ("rtl", "gl")]
    decl = ["    input  wire clk;"] + [f"    input  wire [{w - 1}:0] {n};" for n, w in unit.inputs.items()]
    decl += [f"    output wire [{w - 1}:0] {k}_{n};" for n, w in unit.outputs.items() for k in ("rtl", "gl")]
    inst = []
    for kind, top in (("rtl", rtl_top), ("gl", gl_top)):
        conns = ["clk"] + list(unit.inputs)
        pins = [f".{p}({p})" for p in conns] + [f".{n}({kind}_{n})" for n in unit.outputs]
        inst.append(f"    {top} u_{kind} ({', '.join(pins)});")
    return f"module gl_harness ({', '.join(ports)});\n" + "\n".join(decl + inst) + "\nendmodule\n"


def check_unit(name: str, cycles: int = 1500, clock_mhz: float = 100.0):
    """Synthesize and compare; returns (SimResult, PPAReport)."""
    from verify.ppa import synthesize

    unit = UNITS[name]
    with tempfile.TemporaryDirectory(prefix="hwagent-gl-") as tmp:
        tmp = Path(tmp)
        sources = rtl_files(list(unit.files))
        top = unit.module
        if unit.parameters:
            wrapper = tmp / f"{unit.module}_w.v"
            wrapper.write_text(wrapper_source(unit))
            sources.append(wrapper)
            top = f"{unit.module}_w"
        report = synthesize(sources, top, clock_mhz=clock_mhz)
        if not report.netlist:
            raise RuntimeError("synthesis produced no OSU018 netlist (liberty missing?)")
        netlist = Path(report.netlist).read_text()
        netlist, n = re.subn(rf"^module {re.escape(top)}\(", f"module {top}_gl(", netlist, flags=re.MULTILINE)
        if n != 1:
            raise RuntimeError(f"module {top} not found in the netlist")
        (tmp / "netlist_gl.v").write_text(netlist)
        (tmp / "gl_harness.v").write_text(harness_source(unit, top, f"{top}_gl"))
        spec = {"inputs": unit.inputs, "outputs": unit.outputs, "cycles": cycles,
                "constraints": {k: list(v) for k, v in unit.constraints.items()}}
        result = run_unit("tb_gatelevel", "gl_harness", sources, timeout_s=900,
                          env={"HWAGENT_GL_SPEC": json.dumps(spec)},
                          trusted=[tmp / "netlist_gl.v", CELL_MODELS, tmp / "gl_harness.v"])
    return result, report
