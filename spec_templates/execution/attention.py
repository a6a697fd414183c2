"""Memory-efficient attention on the derived engine: tiled attention with an online softmax vs the
materialised score matrix (the expert block's form).

Unit of analysis: one KV head with the query heads that share it stacked as rows (grouped-query attention
reads each K/V head once; for multi-head attention a KV head is a head). All operands are int8.

- Materialised (accelerator_baseline's qblock_top): one query head at a time holds Q, K, V, the int32 score
  matrix and the int8 probabilities, both in two banks (softmax of head h runs under QK^T of head h + 1), and
  O on chip. Array cycles are the baseline cycle model's QK^T and P V occupancy, the vector unit's are its
  `softmax_cycles` per row block; the two overlap. When it does not fit the SRAM budget, the scores (int32)
  and probabilities (int8) are each written off chip and read back.
- Tiled (FlashAttention-style): a Br-row Q tile stays on chip while Bc-key K/V tiles stream past it (double
  buffered); per step the array computes S = Q K^T (Br x Bc) and O += P V, the vector unit runs two passes
  over the Bc scores (running max; exp, running sum and the probabilities) and rescales the int32 O
  accumulator (a pass over d), then per Q tile one reciprocal and a normalising pass. Steps are pipelined:
  a step costs max(array, vector, K/V tile bytes / bandwidth). On chip: Q tile, two K and two V tiles, two
  int32 score tiles, two int8 probability tiles, the int32 O accumulator and two int32 row statistics.
  Off chip per KV head: Q read and O written once, K and V read once per Q tile.
Both forms: one pipeline fill per KV head, causal masks applied to the scores (fully masked tiles are not
skipped), the online softmax costed on the baseline vector unit's pass timing (its integer numerics are
not part of the baseline golden model). The SRAM budget is the whole `sram_kib`.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

from accelerator_baseline.cycle_model import TIMING, softmax_cycles
from spec_templates.execution.engine import Engine, ExecutionError
from spec_templates.mapping import TIE_TOLERANCE

SCORE_BYTES = 4  # int32 scores (the baseline's score buffer)
ACC_BYTES = 4  # int32 O accumulator
STAT_BYTES = 4  # int32 running max and running sum per row


class AttentionShape(BaseModel):
    """The attention of one stack in one phase."""

    model_config = ConfigDict(frozen=True)

    name: str
    q_len: int
    kv_len: int
    head_dim: int
    heads: int
    kv_heads: int
    instances: int  # layers x batch

    @property
    def group(self) -> int:
        return self.heads // self.kv_heads

    @property
    def q_rows(self) -> int:
        """Query rows of one KV head (its query heads stacked)."""
        return self.q_len * self.group

    @property
    def kv_head_instances(self) -> int:
        return self.kv_heads * self.instances


class AttentionCost(BaseModel):
    """One form and tile size, per KV head."""

    form: Literal["materialised", "tiled"]
    br: int
    bc: int
    onchip_bytes: int
    offchip_bytes: int
    cycles: int
    step_cycles: int  # one full (Br x Bc) step; materialised: one query head
    array_cycles: int
    vector_cycles: int
    memory_cycles: int
    kv_reads: int  # times K and V stream past the queries of one KV head
    fits: bool

    @property
    def label(self) -> str:
        return "materialised" if self.form == "materialised" else f"{self.br}x{self.bc}"

    @property
    def bound(self) -> str:
        parts = {"array": self.array_cycles, "vector": self.vector_cycles, "memory": self.memory_cycles}
        return max(parts, key=parts.get)


class AttentionPlan(AttentionShape):
    sram_bytes: int
    offchip_bytes_per_cycle: float
    materialised: AttentionCost
    options: list[AttentionCost]
    chosen: AttentionCost

    @property
    def total_cycles(self) -> int:
        """All KV heads of all layers with the chosen form."""
        return self.chosen.cycles * self.kv_heads * self.instances

    @property
    def total_offchip_bytes(self) -> int:
        return self.chosen.offchip_bytes * self.kv_heads * self.instances

    @property
    def traffic_vs_materialised(self) -> float:
        return self.chosen.offchip_bytes / self.materialised.offchip_bytes


def _pad(n: int, r: int) -> int:
    return math.ceil(n / r) * r


def _split(n: int, tile: int) -> list[int]:
    return [tile] * (n // tile) + ([n % tile] if n % tile else [])


def materialised(shape: AttentionShape, engine: Engine) -> AttentionCost:
    """The expert block's form, per KV head (its query heads one after another)."""
    r, d, lq, lk = engine.rows, shape.head_dim, shape.q_len, shape.kv_len
    scores = _pad(lq, r) * _pad(lk, r)
    onchip = 2 * lq * d + 2 * lk * d + 2 * scores * SCORE_BYTES + 2 * scores
    fits = onchip <= engine.sram_bytes
    offchip = (2 * lq + 2 * lk) * d + (0 if fits else lq * lk * (2 * SCORE_BYTES + 2))
    array = engine.occupancy(lq, lk, d) + engine.occupancy(lq, d, lk)
    vector = math.ceil(lq / r) * softmax_cycles(lk)
    memory = engine.memory_cycles(offchip)
    step = max(array, vector, memory)
    g = shape.group
    return AttentionCost(form="materialised", br=lq, bc=lk, onchip_bytes=onchip, offchip_bytes=g * offchip,
                         cycles=g * (step + engine.pipeline), step_cycles=step, array_cycles=g * array,
                         vector_cycles=g * vector, memory_cycles=g * memory, kv_reads=g, fits=fits)


def tiled_onchip_bytes(br: int, bc: int, d: int) -> int:
    return br * d + 4 * bc * d + 2 * br * bc * (SCORE_BYTES + 1) + br * d * ACC_BYTES + 2 * br * STAT_BYTES


def tiled(shape: AttentionShape, engine: Engine, br: int, bc: int) -> AttentionCost:
    """Tiled attention with an online softmax, per KV head, Br query rows x Bc keys per step."""
    r, d, tail = engine.rows, shape.head_dim, TIMING.pass_tail
    total = array = vector = memory = 0
    full_step = 0
    for bq in _split(shape.q_rows, br):
        blocks = math.ceil(bq / r)
        for j, bk in enumerate(_split(shape.kv_len, bc)):
            arr = engine.occupancy(bq, bk, d) + engine.occupancy(bq, d, bk)
            vec = blocks * (2 * (bk + tail) + d + tail)
            mem = engine.memory_cycles(2 * bk * d + (bq * d if j == 0 else 0))
            step = max(arr, vec, mem)
            full_step = max(full_step, step)
            total, array, vector, memory = total + step, array + arr, vector + vec, memory + mem
        final_vec, out_mem = blocks * (TIMING.recip_cycles + d + tail), engine.memory_cycles(bq * d)
        total, vector, memory = total + max(final_vec, out_mem), vector + final_vec, memory + out_mem
    q_tiles = math.ceil(shape.q_rows / br)
    offchip = 2 * shape.q_rows * d + q_tiles * 2 * shape.kv_len * d
    onchip = tiled_onchip_bytes(br, bc, d)
    return AttentionCost(form="tiled", br=br, bc=bc, onchip_bytes=onchip, offchip_bytes=offchip,
                         cycles=total + engine.pipeline, step_cycles=full_step, array_cycles=array,
                         vector_cycles=vector, memory_cycles=memory, kv_reads=q_tiles,
                         fits=onchip <= engine.sram_bytes)


def tile_sizes(n: int, r: int) -> list[int]:
    """Multiples of the array side by powers of two, up to `n` padded to the array side."""
    top = _pad(n, r)
    return sorted({min(r * 2**i, top) for i in range(max(1, math.ceil(math.log2(top / r)) + 1))})


def plan_attention(shape: AttentionShape, engine: Engine) -> AttentionPlan:
    """Every tile size and the materialised form; the chosen form fits the SRAM budget and is the fastest
    (forms within 1 % of the fastest tie: then the least off-chip traffic, then the least SRAM)."""
    mat = materialised(shape, engine)
    options = [tiled(shape, engine, br, bc) for br in tile_sizes(shape.q_rows, engine.rows)
               for bc in tile_sizes(shape.kv_len, engine.rows)]
    fitting = [c for c in [mat, *options] if c.fits]
    if not fitting:
        raise ExecutionError(f"sram_kib: {engine.sram_bytes / 1024:g} KiB cannot hold one {engine.rows}x"
                             f"{engine.rows} attention tile of {shape.name} (head_dim {shape.head_dim})")
    fastest = min(c.cycles for c in fitting)
    ties = [c for c in fitting if c.cycles <= fastest * (1 + TIE_TOLERANCE)]
    chosen = min(ties, key=lambda c: (c.offchip_bytes, c.onchip_bytes, c.cycles))
    return AttentionPlan(**shape.model_dump(), sram_bytes=engine.sram_bytes,
                         offchip_bytes_per_cycle=engine.bandwidth, materialised=mat, options=options, chosen=chosen)
