"""Golden model: integer kernels against exact references, constants, block shapes and quantisation error."""

import math

import numpy as np
import pytest

from accelerator_baseline import golden as G
from accelerator_baseline.cycle_model import block_gemms, estimate_block, gemm_cycles


def test_isqrt_digits_matches_math_isqrt():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.integers(0, 2**52, 20000), np.arange(0, 5000),
                             np.array([2**52 - 1, 2**50, 2**26 * 2**26 - 1, (2**26 - 1) ** 2])])
    roots = G.isqrt_digits(values, G.LN_ISQRT_BITS)
    assert [int(r) for r in roots] == [math.isqrt(int(v)) for v in values]


def test_requant_round_half_up_and_saturation():
    p = G.RequantParams(mult=1 << 14, shift=15)  # x / 2
    acc = np.array([1, 3, -1, -3, 5, 1000, -1000, 2**31 - 1, -(2**31)])
    assert list(G.requant(acc, p, out_bits=None)) == [1, 2, 0, -1, 3, 500, -500, 2**30, -(2**30)]
    assert list(G.requant(acc, p)) == [1, 2, 0, -1, 3, 127, -128, 127, -128]
    assert list(G.requant(np.array([300, -300]), p, 16, residual=np.array([-128, 127]))) == [22, -23]


def test_requant_params_approximate_ratio():
    for ratio in (1e-6, 3.7e-4, 0.01, 0.5, 1.0, 3.0, 1000.0):
        p = G.requant_params(ratio)
        assert 2**14 <= p.mult < 2**15
        assert abs(p.ratio / ratio - 1) < 2**-14


@pytest.mark.parametrize("scale", [2e-5, 1.3e-4, 1e-3, 4e-3])
def test_softmax_int_close_to_float(scale):
    rng = np.random.default_rng(2)
    c = G.softmax_constants(scale)
    assert c.q_ln2 < G.SOFTMAX_QLN2_MAX
    scores = rng.integers(-int(6 / scale), int(6 / scale), (32, 50))
    p = G.softmax_int(scores, c)
    ref = np.exp(scores * scale - (scores * scale).max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    assert p.min() >= 0 and p.max() <= 127
    assert np.max(np.abs(p / 128 - ref)) < 0.03


def test_softmax_edge_rows():
    c = G.softmax_constants(1e-3)
    equal = G.softmax_int(np.full((1, 16), 1234), c)
    assert len(set(equal[0].tolist())) == 1 and equal[0, 0] == 8  # 128 / 16
    one_hot = G.softmax_int(np.array([[0] * 7 + [10**6]]), c)
    assert one_hot[0, -1] == 127 and one_hot[0, :-1].sum() == 0  # 128 clamped to int8
    extreme = G.softmax_int(np.array([[2**31 - 1, -(2**31)]]), c)
    assert extreme.tolist() == [[127, 0]]


def test_gelu_int_close_to_float():
    scale = 2e-4
    c = G.gelu_constants(scale)
    acc = np.arange(-40000, 40000, 7)
    got = G.gelu_int(acc, c) * c.out_scale
    ref = G.gelu_float(acc * scale)
    assert np.max(np.abs(got - ref)) < 0.03


def test_layernorm_int_close_to_float_and_zero_variance():
    rng = np.random.default_rng(3)
    n = 64
    gamma, beta, s_out = rng.normal(1, 0.1, n), rng.normal(0, 0.1, n), 0.03
    c = G.layernorm_constants(gamma, beta, s_out)
    x = rng.integers(-3000, 3000, (8, n))
    got = G.layernorm_int(x, c) * s_out
    mu, sd = x.mean(-1, keepdims=True), x.std(-1, keepdims=True)
    ref = np.clip((x - mu) / sd * gamma + beta, -128 * s_out, 127 * s_out)
    assert np.max(np.abs(got - ref)) < 2.5 * s_out
    flat = G.layernorm_int(np.full((2, n), -77), c)
    assert np.array_equal(flat[0], G.saturate(np.array(c.beta_q), 8))


@pytest.mark.parametrize("name", ["tiny", "vit_tiny"])
def test_golden_block_shapes_ranges_and_error(name):
    cfg = G.CONFIGS[name]
    report = G.quant_error_report(cfg, seed=0, n_calib=4, n_eval=2)
    assert report["random"]["cosine"] > 0.99 and report["calibration"]["cosine"] > 0.98
    fb = G.random_float_block(cfg, 0)
    qb = G.quantize_block(fb, G.activation_batch(cfg, 2, 1))
    tr = G.golden_block(qb, G.quantize_input(qb, G.activation_batch(cfg, 1, 9)[0]))
    assert tr.y.shape == (cfg.tokens, cfg.d_model) and tr.p.shape == (cfg.heads, cfg.tokens, cfg.tokens)
    for t in (tr.q, tr.k, tr.v, tr.o, tr.h1, tr.g, tr.y):
        assert t.min() >= -128 and t.max() <= 127
    assert np.abs(tr.s).max() < 2**31


def test_cycle_model_basics():
    g = gemm_cycles(197, 768, 768, 16, 16)
    assert g.tile_ideal_cycles == 13 * 48 * 768 and g.ideal_cycles == math.ceil(197 * 768 * 768 / 256)
    assert g.tile_efficiency == 1.0 and g.latency > g.occupancy
    short = gemm_cycles(16, 16, 8, 16, 16)
    assert short.occupancy == 16 and short.tile_efficiency == 0.5
    for name in ("vit_b16", "deit_s", "bert_base", "vit_tiny"):
        est = estimate_block(G.CONFIGS[name])
        assert est.tile_ideal_cycles == sum(
            math.ceil(x.M / 16) * math.ceil(x.N / 16) * x.K for x in block_gemms(G.CONFIGS[name]))
        assert 1.0 < est.block_over_tile_ideal < 1.2
