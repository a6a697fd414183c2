"""Hardware budget validation and the roofline / tiling mapping on the shared cycle model."""

import pytest

from accelerator_baseline.cycle_model import gemm_cycles
from spec_templates.mapping import (
    BudgetError,
    Gemm,
    best_tiling,
    choose_mapping,
    compute_cycles,
    map_gemm,
    parse_budget,
    pick,
)
from workloads.config import PRESETS, with_overrides
from workloads.profile import profile_model

BUDGET = {"pe_count": 64, "sram_kib": 64, "offchip_bytes_per_cycle": 8, "clock_mhz": 100}


@pytest.mark.parametrize("change, field", [
    ({"pe_count": None}, "pe_count"),
    ({"pe_count": 2}, "pe_count"),
    ({"sram_kib": -1}, "sram_kib"),
    ({"clock_mhz": "fast"}, "clock_mhz"),
    ({"area_mm2": 0.5}, "area_mm2"),
    ({"colour": "red"}, "colour"),
])
def test_bad_budgets_name_the_field(change, field):
    data = {k: v for k, v in (BUDGET | change).items() if v is not None}
    with pytest.raises(BudgetError) as err:
        parse_budget(data, "budget.yaml")
    message = str(err.value)
    assert message.startswith("budget.yaml: ") and field in message and "\n" not in message


def test_os_compute_cycles_are_the_baseline_cycle_model():
    g = Gemm(name="x", kind="weight", m=197, n=192, k=768, count=1, repeat=1)
    assert compute_cycles(g, 8, 8, "output-stationary") == gemm_cycles(197, 192, 768, 8, 8).occupancy
    assert compute_cycles(g, 8, 8, "weight-stationary") == 96 * 24 * 197


def test_tiling_traffic_falls_with_sram_and_too_little_sram_is_an_error():
    g = Gemm(name="fc1", kind="weight", m=512, n=2048, k=512, count=1, repeat=1)
    small, big = best_tiling(g, 8, 8, 16 * 1024), best_tiling(g, 8, 8, 1024 * 1024)
    assert big.traffic_bytes < small.traffic_bytes
    assert big.traffic_bytes >= g.m * g.k + g.k * g.n + g.m * g.n  # every operand at least once
    with pytest.raises(BudgetError, match="sram_kib"):
        best_tiling(g, 64, 64, 1024)


def test_decode_is_memory_bound_and_prefill_compute_bound():
    budget = parse_budget(BUDGET | {"pe_count": 256})
    prof = profile_model(with_overrides(PRESETS["coder-1.5b"], seq=256), with_ranges=False)
    prefill, decode = choose_mapping(prof, budget, "prefill"), choose_mapping(prof, budget, "decode")
    weights = [g for g in decode.gemms if g.gemm.kind == "weight"]
    assert all(g.bound == "memory" for g in weights) and decode.utilization < 0.2
    assert prefill.utilization > 0.8 and 0 < prefill.utilization <= 1
    fewer_bits = choose_mapping(prof, budget, "decode", weight_bits={g.gemm.name: 4 for g in weights})
    assert fewer_bits.total_cycles < 0.7 * decode.total_cycles  # 4-bit weights halve the traffic


def test_ties_go_to_the_squarest_array():
    cands = [{"rows": 2, "cols": 32, "dataflow": "output-stationary", "cycles": 1000},
             {"rows": 8, "cols": 8, "dataflow": "output-stationary", "cycles": 1005},
             {"rows": 4, "cols": 16, "dataflow": "weight-stationary", "cycles": 900}]
    assert pick(cands, "output-stationary") == (8, 8, "output-stationary")
    assert pick(cands, None) == (4, 16, "weight-stationary")
    g = Gemm(name="x", kind="activation", m=64, n=64, k=64, count=4, repeat=2)
    mapped = map_gemm(g, 8, 8, "output-stationary", parse_budget(BUDGET))
    assert mapped.cycles >= max(mapped.compute_cycles, mapped.memory_cycles)
