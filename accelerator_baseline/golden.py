"""Integer-only golden model of one quantized transformer encoder block (post-LN, BERT/I-BERT order).

This module is the numerical specification of the baseline accelerator: every integer operation here is
what the RTL in ``accelerator_baseline/rtl`` computes, bit for bit. All integer arithmetic is numpy int64
(every intermediate provably fits; the widths are stated per kernel). Rounding is always round-half-up,
``(v + 2**(s-1)) >> s`` with an arithmetic shift; saturation clamps.

Stable API (imported by spec derivation and test-vector generation):

- ``BlockConfig`` / ``CONFIGS``: block shapes (tokens L, d_model, heads, d_ff) and the array size R x C.
- ``FloatBlock``, ``random_float_block(cfg, seed)``, ``float_block_forward(fb, x)``: float64 reference.
- ``quantize_block(fb, calib_x) -> QuantBlock``: int8 weights, int32 biases, activation scales calibrated
  (max-abs) on ``calib_x``, and ``BlockConstants`` (all integer constants, precomputed once from scales).
- ``golden_block(qb, x_int8) -> BlockTrace``: integer forward pass with every intermediate tensor.
- Kernels: ``requant``, ``isqrt_digits``, ``softmax_int``, ``gelu_int``, ``layernorm_int`` and their
  constant builders ``requant_params``, ``softmax_constants``, ``gelu_constants``, ``layernorm_constants``.
- ``quant_error_report(cfg, seed)``: cosine similarity / MSE of the integer block against the float one.

Block dataflow (x int8 [L, d] at scale s_x):
  Q,K,V = sat8(rq(x W + b));  per head: S = Q_h K_h^T (int32);  P = softmax_int(S) (int8, scale 1/128);
  O_h = sat8(rq(P V_h));  r1 = sat16(rq(O Wo + bo -> scale s_x) + x);  h1 = layernorm_int(r1) (int8);
  G = sat8(rq(gelu_int(h1 W1 + b1)));  r2 = sat16(rq(G W2 + b2 -> scale s_h1) + h1);  y = layernorm_int(r2).
Only post-LN is modelled (the RTL scheduler implements this order); pre-LN blocks are not supported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

I64 = np.int64

# I-BERT polynomial coefficients (Kim et al., 2021): exp on (-ln2, 0] and erf on [-1.769, 1.769].
EXP_A, EXP_B, EXP_C = 0.3585, 1.353, 0.344
ERF_A, ERF_B = -0.2888, -1.769
LN2 = math.log(2.0)

SOFTMAX_OUT_BITS = 7          # P = round(128 * softmax), clamped to 127 so it is a valid int8 GEMM operand
SOFTMAX_RECIP_BITS = 31       # factor = floor(2**31 / row_sum)
SOFTMAX_QLN2_MAX = 512        # scores are pre-shifted until floor(ln2 / s) < 512 (bounds exp to 21 bits)
SOFTMAX_Z_MAX = 30            # exp(-x) for x >= 30 ln2 is flushed (the shifted value is 0 anyway)
SOFTMAX_ZMUL_BITS = 24        # z = floor(x / q_ln2) computed as (x * ceil(2**24 / q_ln2)) >> 24 (exact)
GELU_QB_MAX = 512             # GELU input pre-shifted until floor(1.769 / s_erf) < 512 (bounds erf to 19 bits)
GELU_IN_BITS = 16             # GELU input clamped to int16 after the pre-shift
LN_ISQRT_BITS = 52            # n^2 var < 2**52 (int16 inputs, n <= 1024): 26 digit steps
LN_RECIP_BITS = 31            # inv_std = floor(2**31 / isqrt(n^2 var))
LN_NORM_SHIFT = 16            # (n x - sum) * inv_std is norm * 2**31; >> 16 gives norm * 2**15
LN_GAMMA_BITS = 16            # gamma_q is int16
REQUANT_MULT_BITS = 15        # multiplier in [2**14, 2**15)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class BlockConfig:
    """Shape of one encoder block and of the systolic array that runs it."""

    name: str
    tokens: int
    d_model: int
    heads: int
    d_ff: int
    array_rows: int = 16
    array_cols: int = 16
    vector_lanes: int | None = None   # lanes of the vector unit (softmax, LayerNorm); default array_rows

    @property
    def d_head(self) -> int:
        return self.d_model // self.heads

    @property
    def vlanes(self) -> int:
        return self.vector_lanes or self.array_rows

    def check_rtl(self) -> None:
        """Raise ValueError unless the RTL (qblock_top) can run this configuration."""
        r, c = self.array_rows, self.array_cols
        problems = []
        if r != c:
            problems.append("qblock_top needs a square array (R == C)")
        if self.d_model % self.heads:
            problems.append("d_model must be a multiple of heads")
        if r % self.vlanes:
            problems.append(f"the array size {r} must be a multiple of the vector lanes {self.vlanes}")
        for what, value in (("tokens", self.tokens), ("d_model", self.d_model), ("d_head", self.d_head),
                            ("d_ff", self.d_ff)):
            if value % r:
                problems.append(f"{what}={value} must be a multiple of the array size {r}")
        if problems:
            raise ValueError(f"config {self.name}: " + "; ".join(problems))


CONFIGS: dict[str, BlockConfig] = {
    "tiny": BlockConfig("tiny", tokens=8, d_model=16, heads=2, d_ff=32, array_rows=4, array_cols=4),
    "tiny_vl2": BlockConfig("tiny_vl2", tokens=8, d_model=16, heads=2, d_ff=32, array_rows=4, array_cols=4,
                            vector_lanes=2),
    "tiny16": BlockConfig("tiny16", tokens=16, d_model=32, heads=2, d_ff=64),
    "vit_tiny": BlockConfig("vit_tiny", tokens=16, d_model=192, heads=3, d_ff=768),
    "vit_b16": BlockConfig("vit_b16", tokens=197, d_model=768, heads=12, d_ff=3072),
    "deit_s": BlockConfig("deit_s", tokens=197, d_model=384, heads=6, d_ff=1536),
    "bert_base": BlockConfig("bert_base", tokens=128, d_model=768, heads=12, d_ff=3072),
}


# --------------------------------------------------------------------------- integer kernels


def rshift_round(v, shift: int):
    """Round-half-up arithmetic right shift: floor(v / 2**shift + 1/2)."""
    v = np.asarray(v, dtype=I64)
    if shift <= 0:
        return v << -shift
    return (v + (I64(1) << (shift - 1))) >> shift


def saturate(v, bits: int):
    """Clamp to the signed range of `bits` bits."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.asarray(v, dtype=I64), lo, hi)


@dataclass(frozen=True)
class RequantParams:
    """Fixed-point rescale by mult / 2**shift (mult in [2**14, 2**15), 1 <= shift <= 63)."""

    mult: int
    shift: int

    @property
    def ratio(self) -> float:
        return self.mult / 2.0**self.shift


def requant_params(ratio: float) -> RequantParams:
    """Integer multiplier and shift approximating a positive float rescale ratio (s_in / s_out)."""
    if not (ratio > 0 and math.isfinite(ratio)):
        raise ValueError(f"requant ratio must be positive and finite, got {ratio}")
    exponent = math.floor(math.log2(ratio))
    shift = REQUANT_MULT_BITS - 1 - exponent
    mult = round(ratio * 2.0**shift)
    if mult >= 1 << REQUANT_MULT_BITS:
        mult, shift = mult // 2, shift - 1
    if not 1 <= shift <= 63:
        raise ValueError(f"requant ratio {ratio:g} needs shift {shift}, outside 1..63")
    return RequantParams(int(mult), int(shift))


def requant(acc, p: RequantParams, out_bits: int | None = 8, residual=None):
    """rq(acc) = (acc * mult + 2**(shift-1)) >> shift, plus an optional int8 residual, then saturate.

    `out_bits=None` returns the unsaturated value. RTL: 34-bit (acc + bias) or 40-bit (GELU) input x 15-bit
    multiplier, 64-bit shifter; saturation to 8 bits, or 16 bits when a residual is added.
    """
    v = rshift_round(np.asarray(acc, dtype=I64) * I64(p.mult), p.shift)
    if residual is not None:
        v = v + np.asarray(residual, dtype=I64)
    return v if out_bits is None else saturate(v, out_bits)


def isqrt_digits(v, bits: int = 64):
    """Digit-by-digit (restoring, one result bit per step) integer square root, vectorised; = math.isqrt.

    The RTL runs exactly these iterations, one per cycle per lane (`bits // 2` cycles).
    """
    rem = np.asarray(v, dtype=I64).copy()
    if np.any(rem < 0):
        raise ValueError("isqrt of a negative number")
    root = np.zeros_like(rem)
    for i in range(bits // 2 - 1, -1, -1):
        trial = (root << (i + 1)) + (I64(1) << (2 * i))  # (root + 2**i)^2 - root^2
        take = rem >= trial
        rem = np.where(take, rem - trial, rem)
        root = np.where(take, root + (I64(1) << i), root)
    return root


def recip_floor(num_bits: int, d):
    """floor(2**num_bits / d) for d >= 1 (restoring division in the RTL, one bit per cycle)."""
    d = np.asarray(d, dtype=I64)
    if np.any(d < 1):
        raise ValueError("reciprocal of a value < 1")
    return (I64(1) << num_bits) // d


@dataclass(frozen=True)
class SoftmaxConstants:
    """Integer constants of the i-exp softmax for raw scores of real scale `scale` (= s_q s_k / sqrt(d_h))."""

    pre_shift: int   # scores are (s - rowmax) >> pre_shift, giving scale s' = scale * 2**pre_shift
    q_ln2: int       # floor(ln2 / s')
    q_b: int         # floor(1.353 / s')
    q_c: int         # floor(0.344 / (0.3585 s'^2))
    z_mul: int       # ceil(2**24 / q_ln2)
    x_max: int       # 30 * q_ln2: larger -(s - max) is clamped (exp flushes to 0 there)


def softmax_constants(scale: float) -> SoftmaxConstants:
    pre_shift = 0
    while math.floor(LN2 / (scale * 2**pre_shift)) >= SOFTMAX_QLN2_MAX:
        pre_shift += 1
    s = scale * 2**pre_shift
    q_ln2 = math.floor(LN2 / s)
    if q_ln2 < 8:
        raise ValueError(f"softmax input scale {scale:g} is too coarse (floor(ln2/s) = {q_ln2} < 8)")
    c = SoftmaxConstants(pre_shift, q_ln2, math.floor(EXP_B / s), math.floor(EXP_C / (EXP_A * s * s)),
                         -(-(1 << SOFTMAX_ZMUL_BITS) // q_ln2), SOFTMAX_Z_MAX * q_ln2)
    x = np.arange(c.x_max + 1, dtype=I64)
    if not np.array_equal((x * c.z_mul) >> SOFTMAX_ZMUL_BITS, x // q_ln2):
        raise AssertionError("z_mul does not give exact floor division")  # proven for q_ln2 < 2**9
    return c


def iexp(x_neg, c: SoftmaxConstants):
    """I-BERT integer exp of x_neg <= 0 (pre-shifted scores minus row max): 21-bit result, scale a s'^2."""
    x = np.minimum(-np.asarray(x_neg, dtype=I64), c.x_max)
    z = (x * c.z_mul) >> SOFTMAX_ZMUL_BITS
    r = x - z * c.q_ln2                      # in [0, q_ln2)
    return (((c.q_b - r) ** 2) + c.q_c) >> z


def softmax_int(scores, c: SoftmaxConstants):
    """Row softmax of int32 scores -> int8 probabilities at scale 1/128 (values 0..127).

    Per row: m = max; e_j = iexp((s_j - m) >> pre_shift); sum = sum_j e_j (< 2**31 for L <= 1024);
    factor = floor(2**31 / sum); p_j = min((e_j * factor + 2**23) >> 24, 127). The unclamped value can
    reach 128 (one dominant element); it is clamped to 127 because P is a signed int8 GEMM operand.
    Widths: 33-bit subtract, 14-bit clamp, 14x17-bit z multiply, 21-bit exp, 31-bit sum, 21x31-bit product.
    """
    s = np.asarray(scores, dtype=I64)
    m = s.max(axis=-1, keepdims=True)
    e = iexp((s - m) >> c.pre_shift, c)
    total = e.sum(axis=-1, keepdims=True)
    factor = recip_floor(SOFTMAX_RECIP_BITS, total)
    shift = SOFTMAX_RECIP_BITS - SOFTMAX_OUT_BITS
    return np.minimum(rshift_round(e * factor, shift), (1 << SOFTMAX_OUT_BITS) - 1)


@dataclass(frozen=True)
class GeluConstants:
    """i-GELU constants for int32 inputs of real scale `scale`; output scale is `out_scale`."""

    pre_shift: int   # q = clamp16((acc + bias) >> pre_shift), scale s = scale * 2**pre_shift
    q_b: int         # floor(1.769 / s_erf), s_erf = s / sqrt(2)
    q_c: int         # floor(1 / (0.2888 s_erf^2))
    out_scale: float  # s * 0.2888 s_erf^2 / 2


def gelu_constants(scale: float) -> GeluConstants:
    pre_shift = 0
    while math.floor(-ERF_B * math.sqrt(2) / (scale * 2**pre_shift)) >= GELU_QB_MAX:
        pre_shift += 1
    s = scale * 2**pre_shift
    s_erf = s / math.sqrt(2)
    q_b = math.floor(-ERF_B / s_erf)
    if q_b < 2:
        raise ValueError(f"GELU input scale {scale:g} is too coarse")
    q_c = math.floor(1 / (-ERF_A * s_erf * s_erf))
    return GeluConstants(pre_shift, q_b, q_c, s * (-ERF_A) * s_erf * s_erf / 2)


def gelu_int(acc, c: GeluConstants):
    """I-BERT i-GELU: q * (sgn(q) (q_c - (min(|q|, q_b) - q_b)^2) + q_c), 37-bit result.

    erf(x/sqrt2) ~ sgn (q_c - (min(|q|,q_b) - q_b)^2) * 0.2888 s_erf^2, and 1 + erf uses the same q_c.
    """
    q = saturate(np.asarray(acc, dtype=I64) >> c.pre_shift, GELU_IN_BITS)
    a = np.minimum(np.abs(q), c.q_b) - c.q_b
    erf = np.sign(q) * (c.q_c - a * a)
    return q * (erf + c.q_c)


@dataclass(frozen=True)
class LayerNormConstants:
    """Integer LayerNorm over n channels: y = sat8(rshift_round(norm15 * gamma_q, shift) + beta_q)."""

    n: int
    shift: int
    gamma_q: tuple[int, ...]   # round(gamma / s_out * 2**(shift - 15)), int16
    beta_q: tuple[int, ...]    # round(beta / s_out), int16


def layernorm_constants(gamma: np.ndarray, beta: np.ndarray, out_scale: float) -> LayerNormConstants:
    g = np.asarray(gamma, dtype=np.float64) / out_scale
    gmax = float(np.max(np.abs(g))) or 1.0
    shift = 15 + math.floor(math.log2(((1 << (LN_GAMMA_BITS - 1)) - 1) / gmax))
    shift = max(1, min(shift, 40))
    gq = np.clip(np.round(g * 2.0 ** (shift - 15)), -(1 << 15), (1 << 15) - 1).astype(int)
    bq = np.clip(np.round(np.asarray(beta, dtype=np.float64) / out_scale), -(1 << 15), (1 << 15) - 1).astype(int)
    return LayerNormConstants(len(g), shift, tuple(int(v) for v in gq), tuple(int(v) for v in bq))


def layernorm_int(x, c: LayerNormConstants):
    """Integer LayerNorm of int16 rows [.., n] -> int8 (scale-free in the input).

    S1 = sum x, S2 = sum x^2 (42 bits), var_n = n S2 - S1^2 = n^2 var (52 bits), std_n = max(isqrt(var_n), 1)
    (digit-by-digit, 26 steps), inv = floor(2**31 / std_n), norm15 = ((n x - S1) * inv) >> 16 (round),
    y = sat8(((norm15 * gamma_q) >> shift (round)) + beta_q). Zero variance gives y = sat8(beta_q).
    """
    x = np.asarray(x, dtype=I64)
    n = x.shape[-1]
    if n != c.n:
        raise ValueError(f"LayerNorm over {n} channels, constants for {c.n}")
    s1 = x.sum(axis=-1, keepdims=True)
    s2 = (x * x).sum(axis=-1, keepdims=True)
    var_n = n * s2 - s1 * s1
    if np.any(var_n >= I64(1) << LN_ISQRT_BITS):
        raise OverflowError("LayerNorm variance exceeds the 52-bit isqrt datapath")
    std = np.maximum(isqrt_digits(var_n, LN_ISQRT_BITS), 1)
    inv = recip_floor(LN_RECIP_BITS, std)
    norm15 = rshift_round((n * x - s1) * inv, LN_NORM_SHIFT)
    gq = np.asarray(c.gamma_q, dtype=I64)
    bq = np.asarray(c.beta_q, dtype=I64)
    return saturate(rshift_round(norm15 * gq, c.shift) + bq, 8)


# --------------------------------------------------------------------------- float reference


@dataclass
class FloatBlock:
    """Float weights of one post-LN encoder block; GEMMs are x @ W (W is [in, out])."""

    cfg: BlockConfig
    wq: np.ndarray
    bq: np.ndarray
    wk: np.ndarray
    bk: np.ndarray
    wv: np.ndarray
    bv: np.ndarray
    wo: np.ndarray
    bo: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    ln1_gamma: np.ndarray
    ln1_beta: np.ndarray
    ln2_gamma: np.ndarray
    ln2_beta: np.ndarray


def random_float_block(cfg: BlockConfig, seed: int = 0) -> FloatBlock:
    """Random weights with trained-like statistics (std 1/sqrt(fan_in), LN gamma ~ 1, small biases)."""
    rng = np.random.default_rng(seed)
    d, f = cfg.d_model, cfg.d_ff

    def w(n_in, n_out):
        return rng.normal(0, 1 / math.sqrt(n_in), (n_in, n_out))

    def b(n):
        return rng.normal(0, 0.02, n)

    return FloatBlock(cfg, w(d, d), b(d), w(d, d), b(d), w(d, d), b(d), w(d, d), b(d), w(d, f), b(f), w(f, d), b(d),
                      rng.normal(1.0, 0.1, d), rng.normal(0, 0.05, d), rng.normal(1.0, 0.1, d),
                      rng.normal(0, 0.05, d))


def _layernorm_float(x, gamma, beta, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta


def gelu_float(x: np.ndarray) -> np.ndarray:
    """Exact GELU (erf form), float64."""
    import torch  # lazy: only the float reference needs it

    return 0.5 * x * (1 + torch.special.erf(torch.from_numpy(np.asarray(x, dtype=np.float64) / math.sqrt(2))).numpy())


def float_block_forward(fb: FloatBlock, x: np.ndarray, taps: dict | None = None) -> np.ndarray:
    """Float64 post-LN encoder block; `taps` (if given) receives the intermediates used for calibration."""
    cfg = fb.cfg
    L, h, dh = x.shape[0], cfg.heads, cfg.d_head
    q, k, v = x @ fb.wq + fb.bq, x @ fb.wk + fb.bk, x @ fb.wv + fb.bv
    o = np.zeros_like(q)
    for i in range(h):
        sl = slice(i * dh, (i + 1) * dh)
        s = q[:, sl] @ k[:, sl].T / math.sqrt(dh)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o[:, sl] = p @ v[:, sl]
    r1 = x + o @ fb.wo + fb.bo
    h1 = _layernorm_float(r1, fb.ln1_gamma, fb.ln1_beta)
    a1 = h1 @ fb.w1 + fb.b1
    g = gelu_float(a1)
    r2 = h1 + g @ fb.w2 + fb.b2
    y = _layernorm_float(r2, fb.ln2_gamma, fb.ln2_beta)
    if taps is not None:
        taps.update(x=x, q=q, k=k, v=v, o=o, h1=h1, g=g, y=y, L=L)
    return y


# --------------------------------------------------------------------------- quantization


@dataclass(frozen=True)
class BlockConstants:
    """Every integer constant the RTL needs (loaded once over the register / parameter ports)."""

    rq_q: RequantParams
    rq_k: RequantParams
    rq_v: RequantParams
    rq_o: RequantParams       # P V -> O
    rq_proj: RequantParams    # O Wo + bo -> scale s_x (then + x, sat16)
    rq_mlp1: RequantParams    # gelu_int(h1 W1 + b1) -> G
    rq_mlp2: RequantParams    # G W2 + b2 -> scale s_h1 (then + h1, sat16)
    softmax: SoftmaxConstants
    gelu: GeluConstants
    ln1: LayerNormConstants
    ln2: LayerNormConstants


@dataclass(frozen=True)
class Scales:
    """Real scales (value = int * scale) of the int tensors of the block."""

    x: float
    q: float
    k: float
    v: float
    o: float
    h1: float
    g: float
    y: float
    wq: float
    wk: float
    wv: float
    wo: float
    w1: float
    w2: float


@dataclass
class QuantBlock:
    cfg: BlockConfig
    scales: Scales
    consts: BlockConstants
    wq: np.ndarray   # int8 [d, d]  (x @ W form)
    wk: np.ndarray
    wv: np.ndarray
    wo: np.ndarray
    w1: np.ndarray   # int8 [d, d_ff]
    w2: np.ndarray   # int8 [d_ff, d]
    bq: np.ndarray   # int32
    bk: np.ndarray
    bv: np.ndarray
    bo: np.ndarray
    b1: np.ndarray
    b2: np.ndarray


def _sym_scale(t: np.ndarray) -> float:
    return max(float(np.max(np.abs(t))), 1e-8) / 127.0


def quantize_tensor(t: np.ndarray, scale: float, bits: int = 8) -> np.ndarray:
    return saturate(np.round(np.asarray(t, dtype=np.float64) / scale), bits)


def quantize_block(fb: FloatBlock, calib_x: np.ndarray) -> QuantBlock:
    """Per-tensor symmetric int8 quantization; activation scales are max-abs over `calib_x` ([N, L, d])."""
    calib = np.asarray(calib_x, dtype=np.float64).reshape(-1, fb.cfg.tokens, fb.cfg.d_model)
    taps = [{} for _ in calib]
    for t, xb in zip(taps, calib):
        float_block_forward(fb, xb, t)

    def act(name):
        return _sym_scale(np.stack([t[name] for t in taps]))

    sx, sq, sk, sv, so, sh1, sg, sy = (act(n) for n in ("x", "q", "k", "v", "o", "h1", "g", "y"))
    sw = {n: _sym_scale(getattr(fb, n)) for n in ("wq", "wk", "wv", "wo", "w1", "w2")}
    scales = Scales(sx, sq, sk, sv, so, sh1, sg, sy, **sw)
    dh = fb.cfg.d_head
    s_a1 = sh1 * sw["w1"]
    gelu = gelu_constants(s_a1)
    consts = BlockConstants(
        rq_q=requant_params(sx * sw["wq"] / sq),
        rq_k=requant_params(sx * sw["wk"] / sk),
        rq_v=requant_params(sx * sw["wv"] / sv),
        rq_o=requant_params(sv / 2**SOFTMAX_OUT_BITS / so),
        rq_proj=requant_params(so * sw["wo"] / sx),
        rq_mlp1=requant_params(gelu.out_scale / sg),
        rq_mlp2=requant_params(sg * sw["w2"] / sh1),
        softmax=softmax_constants(sq * sk / math.sqrt(dh)),
        gelu=gelu,
        ln1=layernorm_constants(fb.ln1_gamma, fb.ln1_beta, sh1),
        ln2=layernorm_constants(fb.ln2_gamma, fb.ln2_beta, sy),
    )

    def qw(name):
        return quantize_tensor(getattr(fb, name), sw[name])

    def qb(name, s_in, s_w):
        return saturate(np.round(getattr(fb, name) / (s_in * s_w)), 32)

    return QuantBlock(fb.cfg, scales, consts, qw("wq"), qw("wk"), qw("wv"), qw("wo"), qw("w1"), qw("w2"),
                      qb("bq", sx, sw["wq"]), qb("bk", sx, sw["wk"]), qb("bv", sx, sw["wv"]),
                      qb("bo", so, sw["wo"]), qb("b1", sh1, sw["w1"]), qb("b2", sg, sw["w2"]))


# --------------------------------------------------------------------------- integer block


@dataclass
class BlockTrace:
    """All intermediate integer tensors of one golden run (names follow the module docstring)."""

    x: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    s: np.ndarray = field(repr=False)   # [heads, L, L] int32 scores
    p: np.ndarray = field(repr=False)   # [heads, L, L] int8 probabilities (scale 1/128)
    o: np.ndarray = None
    r1: np.ndarray = None
    h1: np.ndarray = None
    a1: np.ndarray = None               # int32 h1 W1 + b1
    g: np.ndarray = None
    r2: np.ndarray = None
    y: np.ndarray = None

    def tensors(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def gemm_int(a, b, bias=None):
    """int8 x int8 -> int32 GEMM (+ int32 bias); asserts the int32 accumulator does not overflow."""
    acc = np.asarray(a, dtype=I64) @ np.asarray(b, dtype=I64)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=I64)
    if acc.size and (acc.max() >= 2**31 or acc.min() < -(2**31)):
        raise OverflowError("int32 accumulator overflow")
    return acc


def golden_block(qb: QuantBlock, x) -> BlockTrace:
    """Integer-only forward pass of the block on int8 input x [L, d]; returns every intermediate."""
    c, cfg = qb.consts, qb.cfg
    x = np.asarray(x, dtype=I64)
    L, h, dh = x.shape[0], cfg.heads, cfg.d_head
    q = requant(gemm_int(x, qb.wq, qb.bq), c.rq_q)
    k = requant(gemm_int(x, qb.wk, qb.bk), c.rq_k)
    v = requant(gemm_int(x, qb.wv, qb.bv), c.rq_v)
    s = np.zeros((h, L, L), dtype=I64)
    p = np.zeros((h, L, L), dtype=I64)
    o = np.zeros((L, cfg.d_model), dtype=I64)
    for i in range(h):
        sl = slice(i * dh, (i + 1) * dh)
        s[i] = gemm_int(q[:, sl], k[:, sl].T)
        p[i] = softmax_int(s[i], c.softmax)
        o[:, sl] = requant(gemm_int(p[i], v[:, sl]), c.rq_o)
    r1 = requant(gemm_int(o, qb.wo, qb.bo), c.rq_proj, out_bits=16, residual=x)
    h1 = layernorm_int(r1, c.ln1)
    a1 = gemm_int(h1, qb.w1, qb.b1)
    g = requant(gelu_int(a1, c.gelu), c.rq_mlp1)
    r2 = requant(gemm_int(g, qb.w2, qb.b2), c.rq_mlp2, out_bits=16, residual=h1)
    y = layernorm_int(r2, c.ln2)
    return BlockTrace(x, q, k, v, s, p, o, r1, h1, a1, g, r2, y)


# --------------------------------------------------------------------------- data and error report


def activation_batch(cfg: BlockConfig, n: int, seed: int, kind: str = "calibration") -> np.ndarray:
    """Float block inputs [n, L, d]: 'random' = iid N(0,1); 'calibration' = embedding-like rows (per-token
    offsets, per-channel scales, a few outlier channels, as seen in trained transformers)."""
    rng = np.random.default_rng(seed)
    shape = (n, cfg.tokens, cfg.d_model)
    if kind == "random":
        return rng.normal(0, 1, shape)
    if kind != "calibration":
        raise ValueError(f"unknown activation kind {kind!r}")
    chan_scale = rng.lognormal(0, 0.3, cfg.d_model)
    outliers = rng.choice(cfg.d_model, size=max(1, cfg.d_model // 64), replace=False)
    chan_scale[outliers] *= 4
    x = rng.normal(0, 1, shape) * chan_scale + rng.normal(0, 0.2, (n, cfg.tokens, 1))
    return x


def quantize_input(qb: QuantBlock, x: np.ndarray) -> np.ndarray:
    return quantize_tensor(x, qb.scales.x)


def quant_error_report(cfg: BlockConfig, seed: int = 0, n_calib: int = 8, n_eval: int = 4) -> dict:
    """Cosine similarity and MSE of the dequantized integer block output against the float block.

    For each data kind the scales are calibrated on `n_calib` batches and evaluated on `n_eval` held-out ones.
    """
    fb = random_float_block(cfg, seed)
    report = {"config": cfg.name, "seed": seed}
    for kind in ("random", "calibration"):
        calib = activation_batch(cfg, n_calib, seed + 1, kind)
        evals = activation_batch(cfg, n_eval, seed + 2, kind)
        qb = quantize_block(fb, calib)
        ref, got = [], []
        for xf in evals:
            ref.append(float_block_forward(fb, xf))
            got.append(golden_block(qb, quantize_input(qb, xf)).y * qb.scales.y)
        ref, got = np.stack(ref).ravel(), np.stack(got).ravel()
        cos = float(ref @ got / (np.linalg.norm(ref) * np.linalg.norm(got) + 1e-30))
        report[kind] = {"cosine": cos, "mse": float(np.mean((ref - got) ** 2)),
                        "ref_var": float(np.var(ref)), "samples": n_eval}
    return report
