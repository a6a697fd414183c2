"""Gate-level netlists (Yosys/OSU018) of the PE and the requant unit against their RTL; unit PPA."""

import pytest

from accelerator_baseline.gatelevel import check_unit
from accelerator_baseline.ppa import synthesize_target, targets


def test_pe_netlist_matches_rtl():
    result, report = check_unit("pe")
    assert result.passed, f"{result.summary()}: {result.assertion_messages}"
    assert report.area_um2 > 0 and report.flops == 8 + 8 + 3 + 32 + 32
    assert report.fmax_mhz and report.fmax_mhz > 50


@pytest.mark.slow
def test_requant_netlist_matches_rtl():
    result, report = check_unit("requant")
    assert result.passed, f"{result.summary()}: {result.assertion_messages}"
    assert report.area_um2 > 0


def test_targets():
    names = [t.name for t in targets(4)]
    assert names[0] == "pe" and names[-1].startswith("qblock_top") and "systolic_array_4x4" in names
    pe = synthesize_target(targets(4)[0])
    assert pe.area_um2 > 0 and pe.power_mw > 0


def test_composed_top_and_derived_figures():
    from accelerator_baseline import golden as G
    from accelerator_baseline.report import composed_top, derived

    unit = {"area_um2": 1000.0, "power_mw": 1.0, "fmax_mhz": 100.0}
    ppa = {"systolic_array_4x4": unit, "requant_4": unit, "vector_unit_4": dict(unit, fmax_mhz=50.0),
           "buffer_32b_x64": {"area_um2": 2048.0, "power_mw": 2.048}}
    top = composed_top(ppa, G.CONFIGS["tiny"])
    assert top["fmax_mhz"] == 50.0
    assert top["area_um2"] == 3000.0 + top["buffer_bits"] * 1.0
    assert abs(top["power_mw"] - (3.0 + top["buffer_bits"] * 0.001)) < 1e-9
    block = {"block_cycles": 1000, "macs": 50_000}
    d = derived(block, top)
    assert abs(d["at_100mhz"]["gops"] - 2 * 50_000 / 10e-6 / 1e9) < 1e-9
    assert abs(d["at_fmax"]["latency_us"] - 20.0) < 1e-9
    assert composed_top({}, G.CONFIGS["tiny"]) is None
