"""Spec derivation end to end: files in the spec format, Markdown, and the generated testbenches run on the
reference designs (real cocotb + Icarus runs); a broken design fails them."""

import json

import pytest

from spec_templates.derive import derive, weight_bits_of, write_specs
from spec_templates.mapping import parse_budget
from spec_templates.spec import load_spec
from spec_templates.units import UNITS, rtl_header
from verify.sim import simulate_cocotb
from workloads.compress import compress
from workloads.config import PRESETS, with_overrides
from workloads.profile import profile_model

BUDGET = parse_budget({"pe_count": 16, "sram_kib": 32, "offchip_bytes_per_cycle": 4, "clock_mhz": 100})


@pytest.fixture(scope="module")
def vit_profile():
    return profile_model(with_overrides(PRESETS["vit-tiny"], image_size=64), calib_tokens=32)


def test_derive_writes_valid_specs(vit_profile, tmp_path):
    derivation = derive(vit_profile, BUDGET, vector_count=8)
    files = write_specs(derivation, tmp_path)
    assert [u.key for u in derivation.units] == ["gemm_engine", "requantiser", "softmax", "layernorm", "gelu",
                                                 "block_top"]
    engine, requant = derivation.units[0].params, derivation.units[1].params
    assert engine["R"] * engine["C"] <= 16 and engine["R"] == derivation.engine["rows"] == requant["LANES"]
    block_top = derivation.units[-1]
    assert block_top.params["D"] == 192 and block_top.params["H"] == 3 and "cycles per" in block_top.spec.description
    for unit in derivation.units:
        spec = load_spec(tmp_path / unit.key / "spec.yaml")
        assert spec.name == unit.spec.name and spec.golden_vectors() == unit.vectors
        assert spec.ppa.clock_mhz == 100
        markdown = (tmp_path / unit.key / "spec.md").read_text()
        assert "## Interface" in markdown and "vit-tiny" in markdown
    constants = json.loads((tmp_path / "mapping.json").read_text())["constants"]
    assert constants["count"] == 17 and constants["softmax_constants"]["q_ln2"] >= 8
    assert all(1 <= shift <= 63 for _, (_, shift) in constants["requant_table"])
    assert (tmp_path / "README.md").read_text().count("spec.md") == 6 and len(files) == 5 * 5 + 2 + 2


def test_compressed_weights_cut_memory_cycles(vit_profile):
    comp = compress(vit_profile, bits_budget=4.0, calib_tokens=16, proxy_depth=1, sweep=False)
    bits = weight_bits_of(comp.bits_map)
    assert set(bits.values()) == {4.0}
    tight = parse_budget({"pe_count": 64, "sram_kib": 8, "offchip_bytes_per_cycle": 0.5, "clock_mhz": 100})
    full = derive(comp.profile, tight, vector_count=4).mapping
    packed = derive(comp.profile, tight, weight_bits=bits, vector_count=4).mapping
    assert packed.total_cycles < full.total_cycles


def test_rtl_header_matches_the_reference():
    params, ports = rtl_header("systolic_array", UNITS["systolic_array"].paths()[0])
    assert [p.name for p in params] == ["R", "C"]
    assert [(p.name, p.width) for p in ports if p.direction == "output"] == [("out_valid", 1), ("out_vec", "R*32")]


@pytest.mark.parametrize("key", ["requantiser", "gemm_engine"])
def test_generated_testbench_passes_reference_and_fails_a_bug(vit_profile, tmp_path, key):
    derivation = derive(vit_profile, BUDGET, vector_count=8)
    write_specs(derivation, tmp_path)
    unit = next(u for u in derivation.units if u.key == key)
    params = unit.params
    env = {"HWAGENT_VECTORS": str(tmp_path / key / "vectors.json")}
    good = simulate_cocotb(unit.unit.paths(), tmp_path / key / "tb.py", unit.spec.name, parameters=params,
                           extra_env=env, timeout_s=120, keep="never")
    assert good.passed, good.log_excerpt[-2000:]
    sources = [path.read_text() for path in unit.unit.paths()]
    broken = tmp_path / "broken.v"
    if key == "requantiser":  # saturate one below the int8 maximum
        sources[0] = sources[0].replace("? 32767 : 127", "? 32767 : 126")
    else:  # drop the sign extension of the products
        sources[1] = sources[1].replace("{{16{prod[15]}}, prod}", "{16'd0, prod}")
    assert sources != [path.read_text() for path in unit.unit.paths()]
    broken.write_text("".join(sources))
    bad = simulate_cocotb([broken], tmp_path / key / "tb.py", unit.spec.name, parameters=params, extra_env=env,
                          timeout_s=120, keep="never")
    assert not bad.passed and bad.reason == "mismatch"
