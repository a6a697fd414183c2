"""The hybrid block: a generated unit in the expert qblock_top, run by the baseline's whole-block test."""

import json
import re
from pathlib import Path

import pytest

from accelerator_baseline.golden import CONFIGS
from accelerator_baseline.sim import rtl_files, substituted_files
from evals.compare.designs import Design
from evals.compare.hybrid import hybrid_block, interface_mismatch
from evals.compare.pricing import Settings

REPO = Path(__file__).resolve().parents[2]
TRANSCRIPT = REPO / "spec_templates" / "examples" / "requant_unit_demo.transcript.jsonl"


def scripted_requant() -> str:
    """The final answer of the demo's SCRIPTED transcript (a passing 4-cycle requantiser)."""
    last = json.loads(TRANSCRIPT.read_text().splitlines()[-1])["response"]["texts"][0]
    return re.search(r"```verilog\n(.*?)```", last, re.DOTALL).group(1)


def unit_design(code: str) -> Design:
    return Design("test requant", "test", "requant", code, True, "passed", None, unit="requant")


def test_substitution_replaces_exactly_the_unit_file(tmp_path):
    unit = tmp_path / "requant_generated.v"
    unit.write_text(scripted_requant())
    files = substituted_files(unit)
    assert [p.name for p in files] == [p.name for p in rtl_files() if p.name != "requant.v"] + [unit.name]
    clash = tmp_path / "clash.v"
    clash.write_text("module sram_1w1r(input clk); endmodule\n")
    with pytest.raises(ValueError, match="not every module of buffers.v"):
        substituted_files(clash)


def test_interface_mismatch_is_named():
    narrow = scripted_requant().replace("input  wire [5:0]            shift", "input  wire [4:0]            shift")
    why = interface_mismatch(unit_design(narrow), CONFIGS["tiny"])
    assert why and "shift (input [6])" in why and "shift (input [5])" in why
    assert interface_mismatch(unit_design(scripted_requant()), CONFIGS["tiny"]) is None


@pytest.mark.slow  # one whole tiny block on Icarus
def test_a_unit_breaking_the_latency_contract_is_reported_with_the_mismatch(tmp_path):
    three_cycles = (scripted_requant().replace("assign out_valid = valid_d[3];", "assign out_valid = valid_d[2];")
                    .replace("assign out_vec = d4;", "assign out_vec = d3;"))
    row = hybrid_block(unit_design(three_cycles), "tiny", Settings(), tmp_path, with_ppa=False)
    assert row["status"] == "mismatch" and not row["bit_exact"] and row["mismatches"] > 0
    assert "first differing intermediate" in row["detail"] and row["first_bad_tensor"]
