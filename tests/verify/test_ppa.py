"""verify.ppa on real Yosys + OSU018 + OpenSTA runs."""

from importlib import resources
from pathlib import Path

import pytest

from verify import tools
from verify.ppa import SynthesisError, synthesize

MAC = Path(str(resources.files("hwagent") / "examples" / "mac_array" / "mac_array.v"))
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
