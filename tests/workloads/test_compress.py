"""Compression: bit allocation under budget, hierarchy, pruning by importance, token-budget knee."""

import pytest
import torch

from workloads import modules as M
from workloads.compress import (
    LayerBits,
    SweepPoint,
    _knee,
    allocate_bits,
    compress,
    cosine,
    prune_block,
    pruned_config,
    quantize_weight,
    quantized,
)
from workloads.config import PRESETS, StackConfig, with_overrides
from workloads.profile import profile_model


def test_quantize_weight_error_shrinks_with_bits():
    w = torch.randn(64, 128)
    errors = [float(((quantize_weight(w, b) - w) ** 2).mean()) for b in (4, 6, 8)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert len(torch.unique(quantize_weight(w, 4)[0])) <= 16


def _unit(name, group, params, sens4):
    return LayerBits(stack="s", block=0, layer=name, group=group, params=params, weight=1, bits=8,
                     sensitivity={8: 0.0, 6: sens4 / 16, 4: sens4})


def test_allocation_is_group_first_then_layer_refined():
    units = [_unit("attn.q", "attn", 100, 1.0), _unit("attn.o", "attn", 100, 1.0),
             _unit("mlp.fc1", "mlp", 100, 0.01), _unit("mlp.fc2", "mlp", 100, 0.5)]
    group_sens = {("s", 0, "attn"): {8: 0.0, 6: 0.1, 4: 2.0}, ("s", 0, "mlp"): {8: 0.0, 6: 0.03, 4: 0.5}}
    allocate_bits(units, group_sens, budget_bits=6 * 400)
    bits = {u.layer: u.bits for u in units}
    assert sum(u.params * u.bits for u in units) <= 6 * 400
    # level 1: the cheaper-to-quantise MLP group steps down first, then attention, both to 6 bits;
    # level 2: inside the MLP group the insensitive fc1 pays 2 bits so the sensitive fc2 gets 8
    assert bits == {"attn.q": 6, "attn.o": 6, "mlp.fc1": 4, "mlp.fc2": 8}
    with pytest.raises(ValueError, match="infeasible"):
        allocate_bits(units, group_sens, budget_bits=3 * 400)


def test_pruning_drops_the_dead_head_and_shrinks_shapes():
    stack = StackConfig(name="t", hidden=64, heads=4, layers=1, mlp_dim=128)
    block = M.seeded(lambda: M.Block(stack), 1)
    with torch.no_grad():
        block.attn.o.weight[:, 16:32] = 0  # head 1 contributes nothing
    x = M.calibration_tokens(64, 2, 10, 0)
    small_cfg = pruned_config(stack, 1, 0.25)
    small, kept = prune_block(block, stack, small_cfg, x)
    assert kept == [0, 2, 3]
    assert small.attn.q.weight.shape == (48, 64) and small.mlp.fc1.weight.shape == (96, 64)
    with torch.no_grad():  # removing a dead head changes nothing else
        only_heads, _ = prune_block(block, stack, pruned_config(stack, 1, 0.0), x)
        assert torch.allclose(only_heads(x), block(x), atol=1e-5)
    with pytest.raises(ValueError, match="GQA group"):
        pruned_config(StackConfig(name="g", hidden=64, heads=4, kv_heads=2, layers=1, mlp_dim=64), 1, 0.0)


def test_quantized_context_restores_weights():
    block = M.seeded(lambda: M.Block(StackConfig(name="t", hidden=32, heads=2, layers=1, mlp_dim=64)), 3)
    x = M.calibration_tokens(32, 1, 8, 0)
    with torch.no_grad():
        ref = block(x)
        with quantized(block, {"mlp.fc1": 4}, act_bits=8):
            assert not torch.equal(block(x), ref)
        assert torch.equal(block(x), ref)


def test_knee_prefers_the_bend():
    pts = [SweepPoint(label=str(m), tokens=m, macs=m, cosine=c) for m, c in
           ((100, 1.0), (60, 0.99), (40, 0.97), (20, 0.80), (10, 0.5))]
    assert _knee(pts).macs == 40


def test_compress_vit_tiny_end_to_end():
    cfg = with_overrides(PRESETS["vit-tiny"], image_size=112)
    prof = profile_model(cfg, calib_tokens=32)
    out = compress(prof, bits_budget=5.0, prune_heads=1, prune_mlp=0.25, calib_tokens=32, proxy_depth=4,
                   macs_budget=int(0.2e9))
    assert out.weight_bits_avg <= 5.0 + 1e-9 and {u.bits for u in out.bits_map} <= {4, 6, 8}
    assert out.pruning[0].heads == (3, 2) and out.pruning[0].mlp_dim == (768, 576)
    block = next(s for s in out.profile.main_phase.sections if s.kind == "block")
    assert next(layer for layer in block.layers if layer.name == "attn.q").n == 128
    assert block.layers[1].ranges is not None
    assert 0.5 < out.proxies[0].cosine <= out.proxies_float_pruned[0].cosine + 0.02
    assert out.sweep.applied and out.sweep.knee.macs <= 0.2e9
    assert out.profile.main_phase.totals.macs == out.sweep.knee.macs
    assert cosine(torch.ones(2, 3), torch.ones(2, 3)) == pytest.approx(1.0)


def test_memory_budget_caps_weight_bytes():
    prof = profile_model(with_overrides(PRESETS["vit-tiny"], image_size=64), calib_tokens=16)
    budget = 2_000_000  # bytes; 8-bit weights would need ~5.3 MB, 4-bit ~2.65 MB
    with pytest.raises(ValueError, match="infeasible"):
        compress(prof, bits_budget=8.0, memory_budget_bytes=budget, calib_tokens=16, proxy_depth=1, sweep=False)
    out = compress(prof, bits_budget=8.0, memory_budget_bytes=3_000_000, calib_tokens=16, proxy_depth=1,
                   sweep=False)
    assert out.weight_bytes <= 3_000_000 < out.weight_bytes_fp16 / 2 and out.weight_bits_avg < 8
