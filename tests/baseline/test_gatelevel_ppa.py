"""Gate-level netlists (Yosys/OSU018) of the PE and the requant unit against their RTL; unit PPA."""

import pytest

from accelerator_baseline.gatelevel import check_unit
from accelerator_baseline.ppa import synthesize_target, targets, with_parameters


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


def test_parameter_rewrite_and_targets():
    src = "module m #(\n    parameter R = 16,\n    parameter RR = 3\n) ();\nendmodule\n"
    assert with_parameters(src, {"R": 4}) == src.replace("R = 16", "R = 4")
    names = [t.name for t in targets(4)]
    assert names[0] == "pe" and names[-1].startswith("qblock_top") and "systolic_array_4x4" in names
    pe = synthesize_target(targets(4)[0])
    assert pe.area_um2 > 0 and pe.power_mw > 0
