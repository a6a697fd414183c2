"""Operator fusion on the derived engine: requantisation, bias, residual, GELU / SiLU, the SwiGLU product and
LayerNorm / RMSNorm fused into the GEMM output pipeline (as the expert block does) vs one pass per operator.

Fusion groups: every weight GEMM with the element-wise operators that follow it, in the expert block's
output-pipeline order bias -> activation -> requant -> residual -> norm (a norm joins the residual GEMM
before it; a pre-LN block's first norm joins the previous block's last GEMM; the LM / classifier head's
norm runs on the vector unit in both forms and is not listed). Attention (QK^T, softmax, P V) is costed by
`attention`.

- Separate passes: the GEMM writes its int32 accumulators off chip; each operator then reads its inputs
  from and writes its output to DRAM (bias, GELU, SiLU on int32; requant int32 -> int8; residual
  int8 + int8 -> int16 sum; norm int16 -> int8; SwiGLU product int8 x int8 -> int8). A pass costs
  max(elements / lanes + the vector pipeline tail, bytes / bandwidth); a norm pass costs the baseline's
  `layernorm_cycles` per row block.
- Fused: the operators run in the GEMM's output pipeline (their latency is in the pipeline fill of the
  baseline cycle model) and a norm runs on the vector unit from on-chip rows while the GEMM computes the
  next row block (only the last row block's norm is exposed). Off chip the GEMM reads its residual input
  (or the SwiGLU gate) and writes only the group's final int8 output (a pre-LN block also writes the int16
  residual stream).
Both forms: the GEMM's operand traffic is the mapping's tiling (spec_templates.mapping.best_tiling) and
its time max(compute, traffic / bandwidth) + one pipeline fill. Where the expert block runs the whole block
(post-LN, GELU, LayerNorm, multi-head attention, a square engine, its buffers within the SRAM budget) the
fused block time is the baseline cycle model's `estimate_block` (next block's weights loaded under it).
"""

from __future__ import annotations

import math

from pydantic import BaseModel

from accelerator_baseline import golden as G
from accelerator_baseline.cycle_model import TIMING, estimate_block, layernorm_cycles
from accelerator_baseline.hwmap import buffers
from spec_templates.execution.engine import Engine
from spec_templates.mapping import Gemm, best_tiling
from workloads.config import StackConfig
from workloads.profile import LayerProfile, ModelProfile, SectionProfile

ACC, RES, ACT = 4, 2, 1  # int32 accumulators, int16 residual sums, int8 activations (bytes)


class PassCost(BaseModel):
    op: str
    bytes: int
    cycles: int


class FusionGroup(BaseModel):
    section: str
    gemm: str
    m: int
    n: int
    k: int
    repeat: int
    ops: list[str]
    passes: list[PassCost]  # the separate passes after the GEMM
    separate_bytes: int  # per instance: GEMM traffic (int32 output) + every pass
    fused_bytes: int
    separate_cycles: int
    fused_cycles: int

    @property
    def label(self) -> str:
        return " + ".join([self.gemm, *self.ops])


class ExpertBlock(BaseModel):
    """The whole block as the expert accelerator runs it (baseline cycle model)."""

    section: str
    config: dict
    block_cycles: int
    weight_load_cycles: int
    buffer_bytes: int
    fits: bool
    fused_cycles: int  # max(block, next block's weight load) when it fits


class FusionPlan(BaseModel):
    phase: str
    groups: list[FusionGroup]
    expert: list[ExpertBlock]

    def totals(self) -> dict[str, int]:
        out = {"separate_bytes": 0, "fused_bytes": 0, "separate_cycles": 0, "fused_cycles": 0}
        for g in self.groups:
            for key in out:
                out[key] += getattr(g, key) * g.repeat
        for block in self.expert:  # the expert block's schedule replaces its groups' fused cycles
            if block.fits:
                repeat = next(g.repeat for g in self.groups if g.section == block.section)
                grouped = sum(g.fused_cycles for g in self.groups if g.section == block.section)
                out["fused_cycles"] += (block.fused_cycles - grouped) * repeat
        return out | {"bytes_saved": out["separate_bytes"] - out["fused_bytes"],
                      "cycles_saved": out["separate_cycles"] - out["fused_cycles"]}


def _has_bias(layer: LayerProfile) -> bool:
    return layer.params > layer.n * layer.k


def _group_ops(section: SectionProfile, stack: StackConfig | None) -> list[tuple[LayerProfile, list[str]]]:
    """(GEMM, operators fused after it) in execution order."""
    groups: list[tuple[LayerProfile, list[str]]] = []
    leading_norm = False
    for layer in section.layers:
        if layer.op == "linear":
            groups.append((layer, (["bias"] if _has_bias(layer) else []) + ["requant"]))
        elif layer.op in ("gelu", "silu") and groups:
            groups[-1][1].insert(groups[-1][1].index("requant"), layer.op)
        elif layer.op == "mul" and groups:
            groups[-1][1].append("gate-mul")
        elif layer.op in ("layernorm", "rmsnorm"):
            if not groups:
                leading_norm = True
            elif section.kind == "block":
                groups[-1][1].append("norm")
    if section.kind == "block":
        for part in ("attn", "mlp"):
            last = [ops for layer, ops in groups if layer.group == part][-1:]
            for ops in last:
                ops.insert(ops.index("requant") + 1, "residual")
        if leading_norm and groups:  # pre-LN: the next block's first norm follows this block's last GEMM
            groups[-1][1].append("norm")
    return groups


def _pass(op: str, m: int, n: int, engine: Engine) -> PassCost:
    e = m * n
    moved = {"bias": 2 * ACC * e + ACC * n, "gelu": 2 * ACC * e, "silu": 2 * ACC * e, "requant": ACC * e + e,
             "residual": 2 * ACT * e + RES * e, "norm": RES * e + ACT * e, "gate-mul": 3 * ACT * e}[op]
    if op == "norm":
        compute = math.ceil(m / engine.rows) * layernorm_cycles(n)
    else:
        compute = math.ceil(e / engine.lanes) + TIMING.pass_tail
    return PassCost(op=op, bytes=moved, cycles=max(compute, engine.memory_cycles(moved)))


def _fused_out_bytes(ops: list[str], e: int, pre_norm: bool) -> int:
    """Off-chip bytes the fused group moves beyond the GEMM operands: the residual input or the SwiGLU gate,
    and the final outputs."""
    if "gate-mul" in ops:
        return 2 * ACT * e
    if "residual" not in ops:
        return ACT * e
    if "norm" not in ops:
        return ACT * e + RES * e
    return ACT * e + ACT * e + (RES * e if pre_norm else 0)


def fusion_group(section: SectionProfile, layer: LayerProfile, ops: list[str], bits: float, pre_norm: bool,
                 engine: Engine) -> FusionGroup:
    g = Gemm(name=f"{section.name}.{layer.name}", kind="weight", m=layer.m, n=layer.n, k=layer.k,
             count=layer.count, repeat=section.repeat, weight_bits=bits)
    e = layer.m * layer.n
    operands = best_tiling(g, engine.rows, engine.cols, engine.sram_bytes).traffic_bytes - e
    compute = engine.occupancy(layer.m, layer.n, layer.k)
    passes = [_pass(op, layer.m, layer.n, engine) for op in ops]
    separate_gemm = operands + ACC * e
    fused_bytes = operands + _fused_out_bytes(ops, e, pre_norm)
    exposed_norm = layernorm_cycles(layer.n) if "norm" in ops else 0
    return FusionGroup(
        section=section.name, gemm=layer.name, m=layer.m, n=layer.n, k=layer.k, repeat=section.repeat, ops=ops,
        passes=passes, separate_bytes=separate_gemm + sum(p.bytes for p in passes), fused_bytes=fused_bytes,
        separate_cycles=max(compute, engine.memory_cycles(separate_gemm)) + engine.pipeline
        + sum(p.cycles for p in passes),
        fused_cycles=max(compute, engine.memory_cycles(fused_bytes)) + engine.pipeline + exposed_norm)


def expert_config(section: SectionProfile, stack: StackConfig, engine: Engine) -> G.BlockConfig | None:
    """The expert block's configuration for this block, or None when the baseline block cannot run it."""
    if (stack.norm, stack.mlp, stack.norm_position, stack.causal) != ("layernorm", "gelu", "post", False):
        return None
    if stack.n_kv_heads != stack.heads or stack.heads * stack.head_dim != stack.hidden or engine.rows != engine.cols:
        return None
    cfg = G.BlockConfig(section.name, tokens=math.ceil(section.tokens / engine.rows) * engine.rows,
                        d_model=stack.hidden, heads=stack.heads, d_ff=stack.mlp_dim, array_rows=engine.rows,
                        array_cols=engine.cols)
    try:
        cfg.check_rtl()
    except ValueError:
        return None
    return cfg


def expert_block(section: SectionProfile, cfg: G.BlockConfig, weight_bytes: int, engine: Engine) -> ExpertBlock:
    block = estimate_block(cfg).block_cycles
    buffer_bytes = sum(b.bits for b in buffers(cfg)) // 8
    load = engine.memory_cycles(weight_bytes)
    fits = buffer_bytes <= engine.sram_bytes
    return ExpertBlock(section=section.name, config={"tokens": cfg.tokens, "d_model": cfg.d_model,
                                                     "heads": cfg.heads, "d_ff": cfg.d_ff, "rows": cfg.array_rows},
                       block_cycles=block, weight_load_cycles=load, buffer_bytes=buffer_bytes, fits=fits,
                       fused_cycles=max(block, load))


def plan_fusion(profile: ModelProfile, engine: Engine, weight_bits: dict[str, float] | None = None,
                phase: str | None = None) -> FusionPlan:
    """Fusion groups of every section of `phase` (default: the main phase), both forms."""
    phase = phase or profile.main_phase.name
    groups, experts = [], []
    for section in profile.phase(phase).sections:
        stack = getattr(profile.config, section.stack) if section.stack else None
        pre_norm = stack is not None and stack.norm_position == "pre"
        section_groups = [fusion_group(section, layer, ops, (weight_bits or {}).get(f"{section.name}.{layer.name}", 8),
                                       pre_norm, engine) for layer, ops in _group_ops(section, stack)]
        groups += section_groups
        cfg = expert_config(section, stack, engine) if section.kind == "block" and stack else None
        if cfg is not None:
            weights = sum(layer.params for layer in section.layers if layer.op == "linear")
            experts.append(expert_block(section, cfg, weights, engine))
    return FusionPlan(phase=phase, groups=groups, expert=experts)
