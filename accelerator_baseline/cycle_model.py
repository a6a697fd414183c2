"""Analytic cycle model of the baseline accelerator (qblock_top) for any block shape.

The model replays the block scheduler's program step by step with the RTL's pipeline latencies, so on the
shapes that fit in simulation it predicts the measured cycle counts (checked in tests/baseline), and for
full-size shapes (ViT-B/16, DeiT-S, BERT-base) it gives the numbers the RTL would take.

Stable API (used by spec derivation):

- ``gemm_cycles(M, N, K, rows, cols) -> GemmCycles``: one GEMM on an R x C output-stationary array.
  ``ideal = ceil(M N K / (R C))``, ``tile_ideal = ceil(M/R) ceil(N/C) K``, ``occupancy`` = cycles the array
  input is busy (``tiles * max(K, C)``: a tile cannot be shorter than its C-cycle drain), ``latency`` =
  first operand beat to last result written (occupancy + fill/drain pipeline).
- ``block_gemms(cfg) -> list[GemmShape]``: the GEMMs of one encoder block in program order.
- ``estimate_block(cfg) -> BlockEstimate``: whole-block cycles including non-linear work and barriers;
  ``block_over_tile_ideal = block_cycles / sum(tile_ideal)``.
- ``Timing``: the pipeline constants (documented per field) shared with the RTL.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from accelerator_baseline.golden import LN_ISQRT_BITS, SOFTMAX_RECIP_BITS, BlockConfig


@dataclass(frozen=True)
class Timing:
    """Cycle constants of qblock_top (derived from the RTL, checked against simulation in tests)."""

    step_overhead: int = 1     # scheduler decision cycle before every step
    finish: int = 1            # final cycle that returns the scheduler to idle
    post_pipe: int = 8         # output pipeline: bias/residual read, bias add, i-GELU x3, requant x3
    pass_tail: int = 8         # vector pass: read latency + 7 pipeline stages after the last issued word
    recip_cycles: int = SOFTMAX_RECIP_BITS + 1 + 2   # divider: init + 32 quotient bits + exit
    isqrt_cycles: int = LN_ISQRT_BITS // 2 + 2       # init + 26 root bits + exit
    var_cycles: int = 16 + 32 + 4   # n S2 then S1^2 by shift-and-add (16 + 32 steps, init and exit each)
    vec_handshake: int = 2     # start pulse and done pulse per block of rows

    def gemm_pipeline(self, rows: int, cols: int) -> int:
        """Cycles from a GEMM's last operand beat to its last result write: buffer read (1), input skew to
        the last PE (rows-1 + cols-1), PE register (1), row drain (cols words), output pipeline."""
        return 1 + (rows - 1) + (cols - 1) + 1 + cols + self.post_pipe

    def barrier_wait(self, rows: int, cols: int) -> int:
        """Extra cycles a barrier adds after a GEMM (all its results must be written first)."""
        return self.gemm_pipeline(rows, cols)


TIMING = Timing()


@dataclass(frozen=True)
class GemmShape:
    name: str
    M: int
    N: int
    K: int


@dataclass(frozen=True)
class GemmCycles:
    M: int
    N: int
    K: int
    macs: int
    ideal_cycles: int
    tile_ideal_cycles: int
    occupancy: int
    latency: int

    @property
    def utilization(self) -> float:
        return self.ideal_cycles / self.occupancy

    @property
    def tile_efficiency(self) -> float:
        return self.tile_ideal_cycles / self.occupancy


def gemm_cycles(M: int, N: int, K: int, rows: int, cols: int, timing: Timing = TIMING) -> GemmCycles:
    tiles = math.ceil(M / rows) * math.ceil(N / cols)
    occupancy = tiles * max(K, cols)
    return GemmCycles(M, N, K, M * N * K, math.ceil(M * N * K / (rows * cols)), tiles * K, occupancy,
                      occupancy + timing.gemm_pipeline(rows, cols))


def block_gemms(cfg: BlockConfig) -> list[GemmShape]:
    """GEMMs in the scheduler's order. V is computed transposed (V^T = Wv^T x^T) so that it lands in the
    layout the P V product reads; its shape is therefore M=d, N=L."""
    L, d, dh, f = cfg.tokens, cfg.d_model, cfg.d_head, cfg.d_ff
    gemms = [GemmShape("q", L, d, d), GemmShape("k", L, d, d), GemmShape("vT", d, L, d)]
    for h in range(cfg.heads):
        gemms += [GemmShape(f"qk{h}", L, L, dh), GemmShape(f"av{h}", L, dh, L)]
    gemms += [GemmShape("proj", L, d, d), GemmShape("mlp1", L, f, d), GemmShape("mlp2", L, d, f)]
    return gemms


@dataclass
class Step:
    """One scheduler step: a GEMM or a vector-unit pass; `barrier` = wait for all GEMM results first."""

    kind: str           # "gemm" | "softmax" | "layernorm"
    name: str
    barrier: bool
    cycles: int         # busy cycles of the step itself (GEMM occupancy or vector-unit time)


@dataclass
class BlockEstimate:
    config: str
    rows: int
    cols: int
    lanes: int
    gemms: list[dict] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    block_cycles: int = 0
    tile_ideal_cycles: int = 0
    ideal_cycles: int = 0
    macs: int = 0

    @property
    def block_over_tile_ideal(self) -> float:
        return self.block_cycles / self.tile_ideal_cycles

    @property
    def utilization(self) -> float:
        return self.ideal_cycles / self.block_cycles

    def to_dict(self) -> dict:
        return {"config": self.config, "rows": self.rows, "cols": self.cols, "lanes": self.lanes,
                "block_cycles": self.block_cycles, "tile_ideal_cycles": self.tile_ideal_cycles,
                "ideal_cycles": self.ideal_cycles, "macs": self.macs,
                "block_over_tile_ideal": self.block_over_tile_ideal, "utilization": self.utilization,
                "gemms": self.gemms, "steps": [asdict(s) for s in self.steps]}


def softmax_cycles(tokens: int, lanes: int, timing: Timing = TIMING) -> int:
    """One head: per block of `lanes` rows, three passes over the row (max; exp and sum; exp times the
    reciprocal) and the reciprocal itself. Rows are padded to a multiple of `lanes`."""
    blocks = math.ceil(tokens / lanes)
    n = blocks * lanes
    return blocks * (timing.vec_handshake + 3 * (n + timing.pass_tail) + timing.recip_cycles)


def layernorm_cycles(tokens: int, channels: int, lanes: int, timing: Timing = TIMING) -> int:
    """Per block of `lanes` tokens: statistics pass, variance, isqrt, reciprocal, normalise pass."""
    blocks = math.ceil(tokens / lanes)
    return blocks * (timing.vec_handshake + 2 * (channels + timing.pass_tail) + timing.var_cycles
                     + timing.isqrt_cycles + timing.recip_cycles)


def block_steps(cfg: BlockConfig, timing: Timing = TIMING) -> list[Step]:
    R, C = cfg.array_rows, cfg.array_cols
    L, d = cfg.tokens, cfg.d_model
    occ = {g.name: gemm_cycles(g.M, g.N, g.K, R, C, timing).occupancy for g in block_gemms(cfg)}
    steps = [Step("gemm", n, False, occ[n]) for n in ("q", "k", "vT")]
    for h in range(cfg.heads):
        steps += [Step("gemm", f"qk{h}", h == 0, occ[f"qk{h}"]),
                  Step("softmax", f"softmax{h}", True, softmax_cycles(L, R, timing)),
                  Step("gemm", f"av{h}", False, occ[f"av{h}"])]
    steps += [Step("gemm", "proj", True, occ["proj"]),
              Step("layernorm", "ln1", True, layernorm_cycles(L, d, R, timing)),
              Step("gemm", "mlp1", False, occ["mlp1"]),
              Step("gemm", "mlp2", True, occ["mlp2"]),
              Step("layernorm", "ln2", True, layernorm_cycles(L, d, R, timing))]
    return steps


def estimate_block(cfg: BlockConfig, timing: Timing = TIMING) -> BlockEstimate:
    """Whole-block cycles: steps run back to back; a barrier waits for the previous GEMM's results."""
    R, C = cfg.array_rows, cfg.array_cols
    est = BlockEstimate(cfg.name, R, C, R)
    for g in block_gemms(cfg):
        gc = gemm_cycles(g.M, g.N, g.K, R, C, timing)
        est.gemms.append({"name": g.name, "M": g.M, "N": g.N, "K": g.K, "macs": gc.macs,
                          "ideal_cycles": gc.ideal_cycles, "tile_ideal_cycles": gc.tile_ideal_cycles,
                          "cycles": gc.occupancy, "latency": gc.latency, "utilization": gc.utilization,
                          "tile_efficiency": gc.tile_efficiency})
        est.tile_ideal_cycles += gc.tile_ideal_cycles
        est.ideal_cycles += gc.ideal_cycles
        est.macs += gc.macs
    est.steps = block_steps(cfg, timing)
    total, last_gemm = 0, False
    for step in est.steps:
        if step.barrier and last_gemm:
            total += timing.barrier_wait(R, C)
        total += timing.step_overhead + step.cycles
        last_gemm = step.kind == "gemm"
    total += (timing.barrier_wait(R, C) if last_gemm else 0) + timing.finish
    est.block_cycles = total
    return est
