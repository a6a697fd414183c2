"""RTL of the baseline accelerator: unit testbenches and whole blocks against the golden model (Icarus)."""

import pytest

from accelerator_baseline import golden as G
from accelerator_baseline.cycle_model import estimate_block
from accelerator_baseline.sim import rtl_files, run_block, run_unit


def _check(result):
    assert result.passed, f"{result.summary()}: {result.assertion_messages}\n{result.log_excerpt[-3000:]}"


def test_pe():
    _check(run_unit("tb_pe", "pe", rtl_files(["pe.v"])))


@pytest.mark.parametrize("rows,cols", [(4, 4), (3, 5), (1, 1), (16, 16)])
def test_systolic_array(rows, cols):
    _check(run_unit("tb_array", "systolic_array", rtl_files(["pe.v", "systolic_array.v"]), {"R": rows, "C": cols}))


@pytest.mark.parametrize("lanes,in_w", [(4, 40), (2, 34)])
def test_requant(lanes, in_w):
    _check(run_unit("tb_requant", "requant", rtl_files(["requant.v"]), {"LANES": lanes, "IN_W": in_w}))


@pytest.mark.parametrize("lanes", [4, 16])
def test_vector_unit(lanes):
    _check(run_unit("tb_vector", "vector_unit", rtl_files(["vector_unit.v"]), {"LANES": lanes}))


@pytest.mark.parametrize("lanes", [1, 16])
def test_gelu(lanes):
    _check(run_unit("tb_gelu", "igelu", rtl_files(["igelu.v"]), {"LANES": lanes}))


def _check_block(config: str, seed: int = 0, layers: int = 1) -> dict:
    cfg = G.CONFIGS[config]
    res = run_block(config, seed, layers=layers)
    assert res["passed"] and res["bit_exact"], f"{res['reason']}: {res.get('messages')}\n{res.get('log')}"
    est = estimate_block(cfg)
    assert res["block_cycles"] == est.block_cycles, "cycle model disagrees with the RTL"
    model = {g["name"]: g for g in est.gemms}
    offsets = set()
    for g in res["gemms"]:
        shape = model[g["step"] + (str(g["head"]) if g["step"] in ("qk", "av") else "")]
        assert g["last_feed"] - g["first_feed"] + 1 == shape["cycles"]
        assert g["beats"] == shape["tile_ideal_cycles"]
        offsets.add(g["first_feed"] - shape["first_feed"])
    assert len(offsets) == 1 and len(res["gemms"]) == len(est.gemms), "GEMM feed windows differ from the model"
    busy = {v["name"]: v["busy_cycles"] for v in est.vector}
    assert {v["step"]: v["busy"] for v in res["vector"]} == busy
    return res


def test_block_tiny_bit_exact():
    res = _check_block("tiny", seed=0)
    assert res["outputs"] == 8 * 16
    assert res["vector_overlapped_with_feeder"] > 0   # softmax and LayerNorm overlap GEMMs


def test_block_tiny16_bit_exact():
    _check_block("tiny16", seed=3)


def test_block_with_fewer_vector_lanes_bit_exact():
    """Softmax and LayerNorm of each row block in R / VL groups of vector lanes (masked buffer writes)."""
    res = _check_block("tiny_vl2", seed=2)
    assert {v["step"] for v in res["vector"]} == {"softmax", "ln1", "ln2"}


def test_two_chained_layers_load_while_computing():
    res = _check_block("tiny16", seed=1, layers=2)
    assert res["second_layer_loaded_while_busy"] and res["second_layer_load_cycles"] < res["block_cycles"]
    assert res["second_block_cycles"] == res["block_cycles"]


@pytest.mark.slow
def test_block_vit_tiny_bit_exact():
    res = _check_block("vit_tiny", seed=0)
    assert res["block_cycles"] / estimate_block(G.CONFIGS["vit_tiny"]).tile_ideal_cycles <= 1.10
