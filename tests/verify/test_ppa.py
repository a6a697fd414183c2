"""verify.ppa on real Yosys + OSU018 + OpenSTA runs."""

import re
from importlib import resources
from pathlib import Path

import pytest

from verify import tools
from verify.ppa import SynthesisError, synthesize

MAC = Path(str(resources.files("spec_templates") / "examples" / "mac_array" / "mac_array.v"))
needs_stdcells = pytest.mark.skipif(not (tools.liberty().found and tools.opensta().found),
                                    reason="OSU018 liberty / OpenSTA missing (apt-get install opensta "
                                           "qflow-tech-osu018)")


@needs_stdcells
def test_mac_array_ppa_is_positive_and_deterministic():
    first = synthesize([MAC], "mac_array", use_cache=False)
    second = synthesize([MAC], "mac_array", use_cache=False)
    assert first.area_um2 > 0 and first.fmax_mhz > 0 and first.power_mw > 0
    assert first.flops == 4 * 8 * 2 + 2 + 16 * 24  # operand registers, valid/clear, accumulators
    assert first.transistors > first.cells > 0 and first.logic_depth > 0
    assert first.clock_port == "clk" and first.critical_path_ns > 0
    assert first.tool_versions == {"yosys": tools.yosys().version, "opensta": tools.opensta().version}
    fields = ("area_um2", "cells", "flops", "transistors", "logic_depth", "critical_path_ns", "fmax_mhz",
              "power_mw")
    assert {f: getattr(first, f) for f in fields} == {f: getattr(second, f) for f in fields}
    assert Path(first.netlist).read_text().count("DFFPOSX1") == first.flops


@needs_stdcells
def test_results_are_cached_by_content(tmp_path):
    design = tmp_path / "adder.v"
    design.write_text("module adder(input [7:0] a, b, output [8:0] s); assign s = a + b; endmodule\n")
    first = synthesize([design], "adder")
    again = synthesize([design], "adder")
    assert not first.cached and again.cached and again.area_um2 == first.area_um2
    design.write_text("module adder(input [7:0] a, b, output [8:0] s); assign s = a - b; endmodule\n")
    assert not synthesize([design], "adder").cached


@needs_stdcells
def test_power_scales_with_clock_and_activity():
    slow = synthesize([MAC], "mac_array", clock_mhz=50, activity=0.1)
    busy = synthesize([MAC], "mac_array", clock_mhz=50, activity=0.3)
    assert busy.power_mw > slow.power_mw


def test_unknown_top_is_a_synthesis_error(tmp_path):
    design = tmp_path / "adder.v"
    design.write_text("module adder(input a, output b); assign b = a; endmodule\n")
    with pytest.raises(SynthesisError, match="nosuchtop"):
        synthesize([design], "nosuchtop", use_cache=False)


MEMORY = """
module mem #(parameter WIDTH = 8, parameter DEPTH = 10, parameter AW = $clog2(DEPTH)) (
    input clk, input we, input [AW-1:0] waddr, input [WIDTH-1:0] wdata, input [AW-1:0] raddr,
    output reg [WIDTH-1:0] rdata);
    reg [WIDTH-1:0] m [0:DEPTH-1];
    always @(posedge clk) begin
        if (we) m[waddr] <= wdata;
        rdata <= m[raddr];
    end
endmodule
module top (input clk, input we, input [5:0] a, input [15:0] d, output reg [15:0] q);
    wire [15:0] rd;
    reg [5:0] ar;
    always @(posedge clk) begin
        ar <= a + 6'd1;
        q <= rd + 16'd3;
    end
    mem #(.WIDTH(16), .DEPTH(40)) u_mem (.clk(clk), .we(we), .waddr(a), .wdata(d), .raddr(ar), .rdata(rd));
endmodule
"""


@needs_stdcells
def test_parameter_overrides(tmp_path):
    design = tmp_path / "mem.v"
    design.write_text(MEMORY)
    default = synthesize([design], "mem", use_cache=False)
    small = synthesize([design], "mem", parameters={"WIDTH": 4, "DEPTH": 8}, use_cache=False)
    assert default.flops == 8 * 10 + 8 and small.flops == 4 * 8 + 4
    assert small.parameters == {"WIDTH": 4, "DEPTH": 8} and small.area_um2 < default.area_um2


@needs_stdcells
def test_memory_kept_as_sram_macro(tmp_path):
    from verify.ppa import SramModel

    design = tmp_path / "top.v"
    design.write_text(MEMORY)
    flops = synthesize([design], "top", use_cache=False)
    macro = synthesize([design], "top", macros=["mem"], use_cache=False)
    assert flops.flops == 16 * 40 + 16 + 6 + 16 and not flops.macros
    assert macro.flops == 6 + 16 and macro.macro_instances == 1
    (m,) = macro.macros
    assert (m.module, m.width, m.words, m.read_ports, m.write_ports) == ("mem", 16, 40, 1, 1)
    assert m.parameters["DEPTH"] == 40 and m.area_um2 == SramModel().area_um2(16 * 40, 1)
    assert macro.area_um2 > macro.macro_area_um2 > 0
    # the macro's access time is on the critical path (macro read data -> adder -> q)
    assert SramModel().access_ns < macro.critical_path_ns < flops.critical_path_ns + SramModel().access_ns
    assert macro.power_breakdown_mw["macros"] == pytest.approx(m.power_mw) and m.power_mw > 0
    assert re.search(rf"^\s*{m.cell}\s+u_mem \(", Path(macro.netlist).read_text(), re.MULTILINE)
    with pytest.raises(SynthesisError, match="not instantiated"):
        synthesize([design], "top", macros=["nosuchmem"], use_cache=False)


@needs_stdcells
def test_high_fanout_flop_is_buffered(tmp_path):
    design = tmp_path / "fanout.v"
    design.write_text("module fanout(input clk, input s, input [511:0] a, b, output reg [511:0] y);\n"
                      "    reg sel;\n    always @(posedge clk) begin sel <= s; y <= sel ? a : b; end\nendmodule\n")
    report = synthesize([design], "fanout", use_cache=False)
    assert report.cells_by_type.get("BUFX2", 0) + report.cells_by_type.get("BUFX4", 0) > 512 // 10
    assert report.critical_path_ns < 2.0  # one DFFPOSX1 driving 512 loads unbuffered takes several ns


@needs_stdcells
def test_cli_parameters_and_macros(tmp_path):
    import json
    import subprocess
    import sys

    design = tmp_path / "top.v"
    design.write_text(MEMORY)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "hwagent.cli", "ppa", str(design), *args], check=False,
                              capture_output=True, text=True, timeout=300)

    ran = cli("--top", "top", "--macro", "mem", "--json")
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert [m["module"] for m in report["macros"]] == ["mem"] and report["macro_area_um2"] > 0
    ran = cli("--top", "mem", "--param", "WIDTH=4", "--param", "DEPTH=8", "--json")
    assert ran.returncode == 0 and json.loads(ran.stdout)["flops"] == 4 * 8 + 4
    bad = cli("--top", "mem", "--param", "WIDTH")
    assert bad.returncode == 2 and "NAME=INTEGER" in bad.stderr and "Traceback" not in bad.stderr


OUTPUT_REGISTERED = """
module outreg(input clk, input [7:0] a, input [7:0] b, output reg [15:0] p);
    always @(posedge clk) p <= a * b;  // registers only at the outputs: every path starts at an input
endmodule
"""


@needs_stdcells
def test_input_to_register_paths_are_timed(tmp_path):
    design = tmp_path / "outreg.v"
    design.write_text(OUTPUT_REGISTERED)
    report = synthesize([design], "outreg", use_cache=False)
    assert report.critical_path == "input-to-reg" and report.fmax_mhz > 0 and report.slack_ns is not None
    assert not any("timing path" in missing for missing in report.missing)
    registered = synthesize([MAC], "mac_array")
    assert registered.critical_path in ("reg-to-reg", "input-to-reg", "reg-to-output")
