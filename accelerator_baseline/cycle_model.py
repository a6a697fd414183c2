"""Cycle model of the baseline accelerator (qblock_top) for any block shape.

The model replays the RTL's two engines row block by row block with its pipeline latencies: the array feeder
runs the GEMM program in order and starts a row block once its operands are ready; the vector unit runs
softmax / LayerNorm tasks in the order their inputs are written. On the shapes that fit in simulation it
predicts the measured cycles exactly (checked in tests/baseline); for full-size shapes (ViT-B/16, DeiT-S,
BERT-base) it gives the cycles the RTL would take. Token counts that are not a multiple of R are padded to
row blocks; reductions over tokens (softmax, P V) run over the true count.

Stable API (used by spec derivation):

- ``gemm_cycles(M, N, K, rows, cols) -> GemmCycles``: one GEMM on an R x C output-stationary array.
  ``ideal = ceil(M N K / (R C))``, ``tile_ideal = ceil(M/R) ceil(N/C) K``, ``occupancy`` = cycles the array
  input is busy (``tiles * max(K, C)``: a tile cannot be shorter than its C-cycle drain), ``latency`` =
  first operand read to last result written (occupancy + fill/drain pipeline).
- ``block_gemms(cfg) -> list[GemmShape]``: the GEMMs of one encoder block in the array's program order.
- ``estimate_block(cfg) -> BlockEstimate``: whole-block cycles including non-linear work and dependencies;
  ``block_over_tile_ideal = block_cycles / sum(tile_ideal)``; per GEMM the feed window (first to last
  operand beat, stalls included) and per vector task kind its busy cycles.
- ``Timing``: the pipeline constants (documented per field) shared with the RTL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from accelerator_baseline.golden import LN_ISQRT_BITS, SOFTMAX_RECIP_BITS, BlockConfig


@dataclass(frozen=True)
class Timing:
    """Cycle constants of qblock_top (derived from the RTL, checked against simulation in tests)."""

    step_setup: int = 1        # descriptor cycle before every GEMM step
    operand_read: int = 2      # buffer read, then the operand register in front of the array
    post_pipe: int = 10        # output pipeline: bias read, bias register, bias add, i-GELU x3, requant x4
    pass_tail: int = 9         # vector pass: read latency + 8 pipeline stages after the last issued word
    recip_cycles: int = SOFTMAX_RECIP_BITS + 1 + 2   # divider: init + 32 quotient bits + exit
    isqrt_cycles: int = LN_ISQRT_BITS // 2 + 2       # init + 26 root bits + exit
    var_cycles: int = 16 + 32 + 4   # n S2 then S1^2 by shift-and-add (16 + 32 steps, init and exit each)
    vec_handshake: int = 3     # per vector task: queue pop, start pulse, done pulse
    group_restart: int = 2     # per further group of lanes of the same rows: done pulse, start pulse

    def gemm_pipeline(self, rows: int, cols: int) -> int:
        """Cycles from a tile's last operand read to its last result write: operand read and register,
        array (input skew, PEs, row drain and de-skew: rows + cols to the first column word), the other
        cols - 1 column words, output pipeline."""
        return self.operand_read + rows + cols + (cols - 1) + self.post_pipe


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


def program(heads: int) -> list[tuple[str, int]]:
    """The array's GEMM program: (step, head), with P V of head h after QK^T of head h + 1 so that the
    softmax of head h overlaps a GEMM."""
    order = [("q", 0), ("k", 0), ("vT", 0), ("qk", 0)]
    for h in range(1, heads):
        order += [("qk", h), ("av", h - 1)]
    return order + [("av", heads - 1), ("proj", 0), ("mlp1", 0), ("mlp2", 0)]


def block_gemms(cfg: BlockConfig) -> list[GemmShape]:
    """GEMMs in the array's program order. V is computed transposed (V^T = Wv^T x^T) so that it lands in
    the layout the P V product reads; its shape is therefore M=d, N=L."""
    L, d, dh, f = cfg.tokens, cfg.d_model, cfg.d_head, cfg.d_ff
    shapes = {"q": (L, d, d), "k": (L, d, d), "vT": (d, L, d), "qk": (L, L, dh), "av": (L, dh, L),
              "proj": (L, d, d), "mlp1": (L, f, d), "mlp2": (L, d, f)}
    return [GemmShape(step + (str(h) if step in ("qk", "av") else ""), *shapes[step])
            for step, h in program(cfg.heads)]


def softmax_cycles(tokens: int, groups: int = 1, timing: Timing = TIMING) -> int:
    """Cycles from taking a vector task to its result being visible: softmax of a block of rows over `tokens`
    scores, in `groups` groups of vector lanes, each three passes (max; exp and sum; exp times the
    reciprocal) and the reciprocal itself."""
    op = 3 * (tokens + timing.pass_tail) + timing.recip_cycles
    return timing.vec_handshake + op + (groups - 1) * (op + timing.group_restart)


def layernorm_cycles(channels: int, groups: int = 1, timing: Timing = TIMING) -> int:
    """Cycles from taking a vector task to its result being visible: LayerNorm of a block of rows, in
    `groups` groups of vector lanes, each a statistics pass, variance, isqrt, reciprocal, normalise pass."""
    op = 2 * (channels + timing.pass_tail) + timing.var_cycles + timing.isqrt_cycles + timing.recip_cycles
    return timing.vec_handshake + op + (groups - 1) * (op + timing.group_restart)


@dataclass
class BlockEstimate:
    config: str
    rows: int
    cols: int
    lanes: int
    gemms: list[dict] = field(default_factory=list)
    vector: list[dict] = field(default_factory=list)
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
                "gemms": self.gemms, "vector": self.vector}


class _VectorUnit:
    """Vector tasks in the order their inputs are written; returns when each result is visible."""

    def __init__(self) -> None:
        self.free = 0
        self.busy: dict[str, list[int]] = {}   # kind -> [first busy cycle, last busy cycle, busy cycles]

    def run(self, kind: str, queued: int, duration: int) -> int:
        pop = max(queued, self.free)
        self.free = pop + duration
        stats = self.busy.setdefault(kind, [pop + 1, 0, 0])   # busy from the cycle after the pop to done
        stats[1], stats[2] = pop + duration - 1, stats[2] + duration - 1
        return self.free


def estimate_block(cfg: BlockConfig, timing: Timing = TIMING) -> BlockEstimate:
    """Whole-block cycles of qblock_top (the CYCLES register), replaying both engines row block by row block.

    Cycle 1 is the first step's setup; a result written in cycle t is visible to the feeder and the vector
    unit's queue in cycle t + 1."""
    R, C = cfg.array_rows, cfg.array_cols
    L, d, H = cfg.tokens, cfg.d_model, cfg.heads
    wl, groups = math.ceil(L / R), R // cfg.vlanes
    est = BlockEstimate(cfg.name, R, C, cfg.vlanes)
    shapes = {g.name: g for g in block_gemms(cfg)}
    for g in shapes.values():
        gc = gemm_cycles(g.M, g.N, g.K, R, C, timing)
        est.tile_ideal_cycles += gc.tile_ideal_cycles
        est.ideal_cycles += gc.ideal_cycles
        est.macs += gc.macs

    latency = timing.gemm_pipeline(R, C)
    vu = _VectorUnit()
    ready: dict[tuple[str, int], int] = {}     # (tensor, row block) -> cycle its readiness is visible
    t = 1                                      # setup cycle of the next step
    for step, h in program(H):
        name = step + (str(h) if step in ("qk", "av") else "")
        g = shapes[name]
        rows_blocks = math.ceil(g.M / R)
        tiles, beats = math.ceil(g.N / C), max(g.K, C)
        row_cycles = tiles * beats
        start = t + timing.step_setup
        first = None
        for mi in range(rows_blocks):
            needs = {"qk": [("k", -1)], "av": [("vT", -1), (f"p{h}", mi)], "proj": [("o", mi)],
                     "mlp1": [("h1", mi)], "mlp2": [("g", mi)]}.get(step, [])
            row_start = max([start] + [ready[key] for key in needs])
            first = row_start if first is None else first
            written = row_start + row_cycles - 1 + latency     # last result word of the row block
            start = row_start + row_cycles
            if step == "qk":
                ready[(f"p{h}", mi)] = vu.run("softmax", written + 1, softmax_cycles(L, groups, timing))
            elif step == "proj":
                ready[("h1", mi)] = vu.run("ln1", written + 1, layernorm_cycles(d, groups, timing))
            elif step == "mlp2":
                ready[("y", mi)] = vu.run("ln2", written + 1, layernorm_cycles(d, groups, timing))
            elif step == "av" and h == H - 1:
                ready[("o", mi)] = written + 1
            elif step == "mlp1":
                ready[("g", mi)] = written + 1
            if mi == rows_blocks - 1 and step in ("k", "vT"):
                ready[(step, -1)] = written + 1
        last = start - 1
        gc = gemm_cycles(g.M, g.N, g.K, R, C, timing)
        est.gemms.append({"name": name, "M": g.M, "N": g.N, "K": g.K, "macs": gc.macs,
                          "ideal_cycles": gc.ideal_cycles, "tile_ideal_cycles": gc.tile_ideal_cycles,
                          "occupancy": gc.occupancy, "cycles": last - first + 1, "first_feed": first,
                          "last_feed": last, "utilization": gc.ideal_cycles / (last - first + 1),
                          "tile_efficiency": gc.tile_ideal_cycles / (last - first + 1)})
        t = start
    est.block_cycles = ready[("y", wl - 1)] - 1
    est.vector = [{"name": kind, "first": a, "last": b, "busy_cycles": n} for kind, (a, b, n) in vu.busy.items()]
    return est
