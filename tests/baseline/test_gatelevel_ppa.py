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
    from accelerator_baseline import golden as G

    tiny = G.CONFIGS["tiny"]
    names = [t.name for t in targets(tiny)]
    assert names[0] == "pe" and names[-1] == "qblock_top_tiny" and "systolic_array_4x4" in names
    assert {"vector_unit_4", "vector_unit_2", "vector_unit_1", "igelu_4", "requant_4"} <= set(names)
    top = targets(tiny)[-1]
    assert dict(top.parameters)["VL"] == 4 and top.macros == ("sram_1w1r", "sram_1w2r")
    pe = synthesize_target(targets(tiny)[0])
    assert pe.area_um2 > 0 and pe.power_mw > 0


def test_buffer_inventory_matches_the_synthesized_macros():
    """hwmap.buffers (used to price full-size buffers) lists exactly the memories the top instantiates."""
    from accelerator_baseline import golden as G
    from accelerator_baseline.hwmap import buffers

    report = synthesize_target(targets(G.CONFIGS["tiny"])[-1])
    synthesized = sorted((m.width, m.words, m.read_ports, m.instances) for m in report.macros)
    listed: dict[tuple, int] = {}
    for b in buffers(G.CONFIGS["tiny"]):
        listed[(b.width, b.words, b.read_ports)] = listed.get((b.width, b.words, b.read_ports), 0) + b.instances
    assert synthesized == sorted((*shape, n) for shape, n in listed.items())
    assert report.fmax_mhz and report.macro_area_um2 > 0 and report.area_um2 > report.macro_area_um2


def test_composed_top_and_derived_figures():
    from accelerator_baseline import golden as G
    from accelerator_baseline.report import composed_top, derived, sram

    unit = {"area_um2": 1000.0, "power_mw": 1.0, "fmax_mhz": 100.0}
    ppa = {"systolic_array_4x4": unit, "requant_4": unit, "igelu_4": unit, "vector_unit_4": dict(unit, fmax_mhz=50.0)}
    tiny = G.CONFIGS["tiny"]
    top = composed_top(ppa, tiny)
    memories = sram(tiny)
    assert top["fmax_mhz"] == 50.0 and top["logic_area_um2"] == 4000.0
    assert top["area_um2"] == 4000.0 + memories["area_um2"] and memories["area_um2"] > 0
    assert abs(top["power_mw"] - (4.0 + memories["power_mw"])) < 1e-9
    block = {"block_cycles": 1000, "macs": 50_000}
    d = derived(block, top)
    assert abs(d["at_100mhz"]["gops"] - 2 * 50_000 / 10e-6 / 1e9) < 1e-9
    assert abs(d["at_fmax"]["latency_us"] - 20.0) < 1e-9
    assert d["at_100mhz"]["gops_per_mm2_logic"] > d["at_100mhz"]["gops_per_mm2"]
    assert composed_top({}, tiny) is None
