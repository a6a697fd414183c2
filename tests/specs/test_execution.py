"""Execution plan formulas against hand-computed cases and the baseline's cycle model."""

import math

import pytest

from accelerator_baseline.cycle_model import TIMING, estimate_block, gemm_cycles, softmax_cycles
from accelerator_baseline.golden import CONFIGS
from spec_templates.execution.attention import AttentionShape, materialised, plan_attention, tiled
from spec_templates.execution.decode import pass_cost
from spec_templates.execution.engine import Engine, ExecutionError
from spec_templates.execution.fusion import _pass, plan_fusion
from spec_templates.execution.plan import PlanOptions, build_plan, render_markdown
from spec_templates.execution.speculative import QueryCost, cascade, expected_tokens, speculative_point
from spec_templates.mapping import gemms_of, parse_budget
from workloads.config import ModelConfig, StackConfig
from workloads.profile import profile_model


def budget(**change):
    return parse_budget({"pe_count": 256, "sram_kib": 512, "offchip_bytes_per_cycle": 16, "clock_mhz": 200} | change)


def decoder(name="dec", hidden=64, heads=4, kv=2, layers=2, mlp=128, seq=32, vocab=256):
    text = StackConfig(name="text", hidden=hidden, heads=heads, kv_heads=kv, layers=layers, mlp_dim=mlp,
                       mlp="swiglu", norm="rmsnorm", causal=True)
    return profile_model(ModelConfig(name=name, family="decoder", text=text, seq_len=seq, vocab=vocab),
                         with_ranges=False)


def test_expected_tokens_per_verify_step_by_hand():
    assert expected_tokens(0.6, 1) == pytest.approx(1.6)
    assert expected_tokens(0.8, 3) == pytest.approx((1 - 0.4096) / 0.2)  # 2.952
    assert expected_tokens(0.0, 5) == 1.0 and expected_tokens(1.0, 4) == 5.0  # a measured draft that always agrees
    with pytest.raises(ExecutionError, match="gamma"):
        expected_tokens(0.5, 0)


def test_speculative_point_and_cascade_by_hand():
    p = speculative_point(0.5, 2, draft_cycles=10, verify_cycles=100, target_cycles=90, clock_mhz=1)
    assert p.expected_tokens == pytest.approx(1.75) and p.step_cycles == 120
    assert p.tokens_per_s == pytest.approx(1.75 / 120 * 1e6) and p.speedup == pytest.approx(1.75 / 120 * 90)
    c = cascade(QueryCost(model="s", seconds=1, joules=2), QueryCost(model="l", seconds=10, joules=30), 0.1, [0.5], 8)
    assert c.points[0].seconds == pytest.approx(6.1) and c.points[0].joules == pytest.approx(17.2)
    assert c.break_even_latency == pytest.approx(0.89) and c.break_even_energy == pytest.approx(1 - 2.2 / 30)
    with pytest.raises(ExecutionError, match="escalation"):
        cascade(c.small, c.large, 0.1, [1.5], 8)


def test_tiled_attention_by_hand():
    engine = Engine(4, 4, budget(pe_count=16, offchip_bytes_per_cycle=4))
    shape = AttentionShape(name="t", q_len=8, kv_len=8, head_dim=4, heads=1, kv_heads=1, instances=1)
    cost = tiled(shape, engine, 4, 4)
    step = 2 * (4 + 9) + 4 + 9  # the vector unit: two passes over 4 scores and the O rescale bound each step
    final = TIMING.recip_cycles + 4 + 9
    pipeline = 2 + 4 + 4 + 3 + 10
    assert cost.cycles == 2 * (2 * step + final) + pipeline == TIMING.gemm_pipeline(4, 4) + 2 * (2 * step + final)
    assert cost.offchip_bytes == 2 * 8 * 4 + 2 * (2 * 8 * 4)  # Q and O once, K and V once per Q tile
    assert cost.onchip_bytes == 16 + 4 * 16 + 2 * 16 * 5 + 16 * 4 + 2 * 4 * 4 and cost.kv_reads == 2
    assert cost.array_cycles == 4 * (4 + 4) and cost.bound == "vector"


def test_materialised_attention_by_hand_and_when_it_does_not_fit():
    shape = AttentionShape(name="t", q_len=8, kv_len=8, head_dim=4, heads=1, kv_heads=1, instances=1)
    roomy = materialised(shape, Engine(4, 4, budget(pe_count=16, offchip_bytes_per_cycle=4)))
    assert roomy.fits and roomy.onchip_bytes == 64 + 64 + 2 * 64 * 4 + 2 * 64 and roomy.offchip_bytes == 128
    assert roomy.array_cycles == 16 + 16 and roomy.vector_cycles == 2 * softmax_cycles(8)
    small = Engine(4, 4, budget(pe_count=16, offchip_bytes_per_cycle=4, sram_kib=0.5))
    spilled = materialised(shape, small)
    assert not spilled.fits and spilled.offchip_bytes == 128 + 64 * 10
    plan = plan_attention(shape, small)
    assert plan.chosen.form == "tiled" and plan.chosen.fits
    with pytest.raises(ExecutionError, match="sram_kib"):
        plan_attention(AttentionShape(name="t", q_len=64, kv_len=64, head_dim=512, heads=1, kv_heads=1,
                                      instances=1), small)


def test_materialised_attention_array_cycles_are_the_baseline_blocks():
    cfg = CONFIGS["vit_tiny"]  # 16 tokens, d 192, 3 heads, 16x16: every GEMM at tile efficiency 1
    est = {g["name"]: g for g in estimate_block(cfg).gemms}
    shape = AttentionShape(name="vit", q_len=cfg.tokens, kv_len=cfg.tokens, head_dim=cfg.d_head, heads=cfg.heads,
                           kv_heads=cfg.heads, instances=1)
    cost = materialised(shape, Engine(16, 16, budget()))
    assert cost.array_cycles == est["qk1"]["cycles"] + est["av1"]["cycles"]


def _encoder():
    """The tiny16 expert-block shape as a post-LN encoder workload."""
    text = StackConfig(name="text", hidden=32, heads=2, layers=3, mlp_dim=64, norm_position="post")
    return profile_model(ModelConfig(name="enc", family="encoder", text=text, seq_len=16, vocab=100),
                         with_ranges=False)


def test_fused_cycles_are_the_baseline_cycle_model():
    engine = Engine(16, 16, budget(offchip_bytes_per_cycle=1024))
    fusion = plan_fusion(_encoder(), engine)
    block = fusion.expert[0]
    assert block.fits and block.block_cycles == estimate_block(CONFIGS["tiny16"]).block_cycles == block.fused_cycles
    groups = {g.gemm: g for g in fusion.groups if g.section == "text.block"}
    assert groups["mlp.fc1"].ops == ["bias", "gelu", "requant"]
    assert groups["attn.o"].ops == ["bias", "requant", "residual", "norm"]
    for name in ("attn.q", "attn.k", "attn.v", "mlp.fc1"):  # no norm: the GEMM with its fused output pipeline
        g = groups[name]
        assert g.fused_cycles == gemm_cycles(g.m, g.n, g.k, 16, 16).latency
    totals, per_block = fusion.totals(), sum(g.fused_cycles for g in groups.values())
    others = sum(g.fused_cycles * g.repeat for g in fusion.groups if g.section != "text.block")
    assert totals["fused_cycles"] == 3 * block.fused_cycles + others != 3 * per_block + others
    assert totals["bytes_saved"] > 0 and totals["cycles_saved"] > 0


def test_separate_pass_by_hand():
    engine = Engine(16, 16, budget())
    requant = _pass("requant", 16, 32, engine)  # int32 in, int8 out: 2,560 B at 16 B/cycle
    assert requant.bytes == 4 * 512 + 512 and requant.cycles == 160
    bias = _pass("bias", 16, 32, engine)
    assert bias.bytes == 2 * 4 * 512 + 4 * 32 and bias.cycles == math.ceil(bias.bytes / 16)


def test_decode_streams_the_weights_once_per_pass():
    prof = decoder()
    engine = Engine(16, 16, budget())
    one, five = pass_cost(prof, engine, phase="decode"), pass_cost(prof, engine, phase="decode", tokens=5)
    assert one.context == 32 and five.context == 32 and five.tokens == 5
    weights = [g for g in gemms_of(prof, "decode") if g.kind == "weight"]
    assert one.weight_bytes == five.weight_bytes == sum(g.k * g.n * g.repeat for g in weights)
    assert one.cycles >= one.weight_bytes / 16 and one.cycles <= five.cycles < 1.5 * one.cycles
    assert one.weight_cycles == sum(engine.gemm(g).cycles for g in weights)
    assert one.attention[0].kv_heads == 2 and one.attention[0].chosen.kv_reads == 1  # GQA: K/V read once


def test_plan_picks_the_best_gamma_and_rejects_bad_input():
    target, draft = decoder("big", hidden=256, heads=8, kv=2, mlp=1024, layers=4), decoder("small")
    plan = build_plan(target, budget(), draft=draft, options=PlanOptions(alphas=[0.6, 0.8], gamma_max=6))
    for sweep in plan.speculative:
        assert [p.gamma for p in sweep.points] == list(range(1, 7))
        assert sweep.best.tokens_per_s == max(p.tokens_per_s for p in sweep.points)
    assert plan.speculative[1].best.speedup > plan.speculative[0].best.speedup > 1
    assert plan.cascade.break_even_latency > 0 and "## Speculative decoding" in render_markdown(plan)
    with pytest.raises(ExecutionError, match="bigger than the target"):
        build_plan(draft, budget(), draft=target)
    for options, message in ((PlanOptions(alphas=[1.0]), "alpha"), (PlanOptions(gamma_max=0), "gamma")):
        with pytest.raises(ExecutionError, match=message):
            build_plan(target, budget(), draft=draft, options=options)
    with pytest.raises(ExecutionError, match="decoder target"):
        build_plan(_encoder(), budget(), draft=draft)
