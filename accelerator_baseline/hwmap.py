"""Host-side view of qblock_top: buffer layouts, register map and packing of a QuantBlock into buffer words.

A buffer word holds R lanes (lane i in bits [i*w, (i+1)*w), two's complement). Layouts (R = array size):
- activation words (R int8), "A layout": word (mi, k) of a [rows, cols] tensor T holds T[mi*R + r, k] in lane r,
  at base + mi*cols + k. X, Q, K, P (per head), O, H, G and Y use it; V is stored transposed (word (mi, n) holds
  V[n, mi*R + r]) because qblock_top computes V^T = Wv^T x^T. Regions: `Layout.xbuf` and `Layout.abuf`.
- weight words (R int8): word (k, nj) of W [K, N] holds W[k, nj*R + c] in lane c, at base + nj*K + k;
  Wv is stored as the A operand of V^T: word (mi, k) holds Wv[k, mi*R + r].
- bias words (R int32): word w holds bias[w*R + r]. LayerNorm params: one 32-bit word per channel,
  {gamma_q[15:0], beta_q[15:0]}, LN1 at 0..d-1 and LN2 at d..2d-1.
Weights, biases, LayerNorm parameters and the constant registers are double-buffered: loads and register
writes go to the bank the next START runs (so the next layer loads while a block computes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelerator_baseline.golden import BlockConfig, QuantBlock

REG_CTRL, REG_CYCLES, REG_LD_SEL, REG_LD_ADDR, REG_RD_ADDR, REG_RD_COUNT = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05
REG_RQ = 0x10            # + index in RQ_ORDER
RQ_ORDER = ("rq_q", "rq_k", "rq_v", "rq_o", "rq_proj", "rq_mlp1", "rq_mlp2")
SEL_WEIGHTS, SEL_ACT, SEL_BIAS, SEL_LNP = 0, 1, 2, 3


@dataclass(frozen=True)
class Layout:
    """Buffer region bases (in words) of qblock_top for one configuration (mirrors the RTL localparams).

    `xbuf` (written by the vector unit and the host): x, which the block output y overwrites, the softmax
    probabilities P (two banks, head h in bank h % 2) and h1 = LN1 output. `abuf` (written by the GEMM output
    pipeline): Q, K, V^T, the attention output O and the MLP1 output G."""

    cfg: BlockConfig

    @property
    def r(self) -> int:
        return self.cfg.array_rows

    def _regions(self, sizes: tuple[tuple[str, int], ...]) -> dict[str, int]:
        bases, pos = {}, 0
        for name, size in sizes:
            bases[name], pos = pos, pos + size
        bases["depth"] = pos
        return bases

    @property
    def row_blocks(self) -> int:
        """Row blocks of R tokens (tokens are padded to a multiple of R)."""
        return -(-self.cfg.tokens // self.r)

    @property
    def xbuf(self) -> dict[str, int]:
        c, wl = self.cfg, self.row_blocks
        lp = wl * self.r
        regions = self._regions((("x", wl * c.d_model), ("p0", wl * lp), ("p1", wl * lp), ("h", wl * c.d_model)))
        return regions | {"y": regions["x"]}

    @property
    def abuf(self) -> dict[str, int]:
        c, wl = self.cfg, self.row_blocks
        return self._regions((("q", wl * c.d_model), ("k", wl * c.d_model), ("v", wl * c.d_model),
                              ("o", wl * c.d_model), ("g", wl * c.d_ff)))


@dataclass(frozen=True)
class Buffer:
    """One on-chip memory of qblock_top (mirrors its sram_1w1r / sram_1w2r instances)."""

    name: str
    width: int          # bits per word
    words: int
    read_ports: int
    instances: int = 1  # banks of a double-buffered memory

    @property
    def bits(self) -> int:
        return self.width * self.words * self.instances


def buffers(cfg: BlockConfig) -> list[Buffer]:
    """Every memory of qblock_top for one configuration: activations (x / probabilities / h1 and the GEMM
    outputs), scores, residual sums, and the double-buffered weights, biases and LayerNorm parameters."""
    r, d, f = cfg.array_rows, cfg.d_model, cfg.d_ff
    lay = Layout(cfg)
    wl = lay.row_blocks
    return [Buffer("xbuf", r * 8, lay.xbuf["depth"], 2), Buffer("abuf", r * 8, lay.abuf["depth"], 2),
            Buffer("scores", r * 32, 2 * wl * wl * r, 1), Buffer("residual", r * 16, wl * d, 1),
            Buffer("weights", r * 8, (4 * d * d + 2 * d * f) // r, 1, 2),
            Buffer("biases", r * 32, (5 * d + f) // r, 1, 2), Buffer("ln_params", 32, 2 * d, 1, 2)]


def pack_words(lanes: np.ndarray, bits: int) -> list[int]:
    """[words, lanes] signed ints -> list of packed words (lane 0 in the low bits)."""
    lanes = np.asarray(lanes, dtype=np.int64)
    mask = (1 << bits) - 1
    words = []
    for row in lanes:
        w = 0
        for i, v in enumerate(row.tolist()):
            w |= (int(v) & mask) << (i * bits)
        words.append(w)
    return words


def unpack_words(words: list[int], lanes: int, bits: int) -> np.ndarray:
    """Inverse of pack_words: [words, lanes] signed ints."""
    out = np.zeros((len(words), lanes), dtype=np.int64)
    for j, w in enumerate(words):
        for i in range(lanes):
            v = (int(w) >> (i * bits)) & ((1 << bits) - 1)
            out[j, i] = v - (1 << bits) if v >> (bits - 1) else v
    return out


def a_layout(t: np.ndarray, r: int) -> np.ndarray:
    """[rows, cols] -> [rows/r * cols, r]: word (mi, k) = t[mi*r:(mi+1)*r, k]."""
    rows, cols = t.shape
    return np.asarray(t).reshape(rows // r, r, cols).transpose(0, 2, 1).reshape(-1, r)


def from_a_layout(words: np.ndarray, rows: int, cols: int) -> np.ndarray:
    r = words.shape[1]
    return words.reshape(rows // r, cols, r).transpose(0, 2, 1).reshape(rows, cols)


def w_layout(w: np.ndarray, r: int) -> np.ndarray:
    """[K, N] -> [N/r * K, r]: word (k, nj) = w[k, nj*r:(nj+1)*r]."""
    k, n = w.shape
    return np.asarray(w).reshape(k, n // r, r).transpose(1, 0, 2).reshape(-1, r)


def weight_words(qb: QuantBlock) -> list[int]:
    r = qb.cfg.array_rows
    parts = [w_layout(qb.wq, r), w_layout(qb.wk, r), a_layout(qb.wv.T, r), w_layout(qb.wo, r),
             w_layout(qb.w1, r), w_layout(qb.w2, r)]
    return pack_words(np.concatenate(parts), 8)


def bias_words(qb: QuantBlock) -> list[int]:
    r = qb.cfg.array_rows
    b = np.concatenate([qb.bq, qb.bk, qb.bv, qb.bo, qb.b1, qb.b2])
    return pack_words(b.reshape(-1, r), 32)


def lnp_words(qb: QuantBlock) -> list[int]:
    words = []
    for ln in (qb.consts.ln1, qb.consts.ln2):
        words += [((g & 0xFFFF) << 16) | (b & 0xFFFF) for g, b in zip(ln.gamma_q, ln.beta_q)]
    return words


def act_words(x: np.ndarray, r: int) -> list[int]:
    return pack_words(a_layout(np.asarray(x), r), 8)


def register_writes(qb: QuantBlock) -> list[tuple[int, int]]:
    """(address, value) pairs that load every block constant into qblock_top."""
    c = qb.consts
    regs = [(REG_RQ + i, (getattr(c, n).shift << 16) | getattr(c, n).mult) for i, n in enumerate(RQ_ORDER)]
    sm, ge = c.softmax, c.gelu
    regs += [(0x18, sm.pre_shift), (0x19, sm.q_ln2), (0x1A, sm.q_b), (0x1B, sm.q_c), (0x1C, sm.z_mul),
             (0x1D, sm.x_max), (0x20, ge.pre_shift), (0x21, ge.q_b), (0x22, ge.q_c),
             (0x28, c.ln1.shift), (0x29, c.ln2.shift)]
    for addr, value in regs:
        if not 0 <= value < 2**32:
            raise ValueError(f"register 0x{addr:02x} value {value} does not fit 32 bits")
    return regs


def rtl_parameters(cfg: BlockConfig, check: bool = True) -> dict[str, int]:
    """qblock_top's parameters for `cfg` (ValueError if the RTL cannot run it, unless `check` is False)."""
    if check:
        cfg.check_rtl()
    return {"R": cfg.array_rows, "L": cfg.tokens, "D": cfg.d_model, "H": cfg.heads, "DFF": cfg.d_ff,
            "VL": cfg.vlanes}
