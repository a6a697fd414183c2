"""Prefill and decode on the derived engine: time per pass, tokens per second and energy.

A pass runs `tokens` new tokens of a decoder against a KV cache of `context` earlier tokens (prefill: the
whole prompt, image tokens included for a VLM, no cache; decode: one token; a speculative verify step:
gamma + 1 tokens). Weight GEMMs take the mapping's roofline (spec_templates.mapping.map_gemm on the emitted
output-stationary engine: max(compute, traffic / offchip_bytes_per_cycle) + one pipeline fill; at batch 1 a
decode GEMM is a GEMV, memory-bound, and the weights stream once per pass whatever `tokens` is). Attention
takes the chosen form of `attention.plan_attention` per KV head (the KV cache is read once per Q tile);
embedding rows are read off chip. Decode shapes come from the profile's real decode step (tokens = 1,
KV cache = the full prefill context); a pass with more tokens scales M and the KV length.

Energy (a stated model, not a measurement): MACs x `mac_pj` (33 pJ: the baseline PE's 3.3 mW at 100 MHz,
activity 0.1, OSU018, `hwagent baseline report`) + off-chip bytes x `dram_pj_per_byte` (160 pJ: an assumed
20 pJ/bit DRAM access); on-chip SRAM and control are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from spec_templates.execution.attention import AttentionPlan, AttentionShape, plan_attention
from spec_templates.execution.engine import Engine
from spec_templates.mapping import gemms_of
from workloads.profile import ModelProfile, SectionProfile


@dataclass(frozen=True)
class EnergyModel:
    mac_pj: float = 33.0
    dram_pj_per_byte: float = 160.0

    def joules(self, macs: int, offchip_bytes: int) -> float:
        return (macs * self.mac_pj + offchip_bytes * self.dram_pj_per_byte) * 1e-12


class PassCost(BaseModel):
    model: str
    phase: str
    tokens: int
    context: int
    weight_cycles: int
    attention_cycles: int
    other_cycles: int  # embedding row reads
    cycles: int
    weight_bytes: int  # weights streamed (at their stored bits)
    kv_bytes: int  # KV cache read by attention
    offchip_bytes: int
    macs: int
    attention: list[AttentionPlan]

    def seconds(self, engine: Engine) -> float:
        return engine.seconds(self.cycles)


def attention_shape(profile: ModelProfile, section: SectionProfile, phase: str, q_len: int | None = None,
                    kv_len: int | None = None) -> AttentionShape | None:
    """The attention of a block section (shapes from its QK^T layer; KV heads from the stack config)."""
    qk = next((layer for layer in section.layers if layer.name.endswith("attn.qk")), None)
    if qk is None or section.stack is None:
        return None
    stack = getattr(profile.config, section.stack)
    heads = qk.count // profile.batch
    return AttentionShape(name=f"{section.name} ({phase})", q_len=q_len or qk.m, kv_len=kv_len or qk.n,
                          head_dim=qk.k, heads=heads, kv_heads=min(stack.n_kv_heads, heads),
                          instances=section.repeat * profile.batch)


def pass_cost(profile: ModelProfile, engine: Engine, weight_bits: dict[str, float] | None = None,
              phase: str = "decode", tokens: int | None = None, context: int | None = None) -> PassCost:
    """One pass of `phase`; `tokens` / `context` override the decode step's 1 token / prompt-long cache."""
    scale = tokens or 1
    weight_cycles = weight_bytes = traffic = macs = 0
    for g in gemms_of(profile, phase, weight_bits):
        if g.kind != "weight":
            continue
        mapped = engine.gemm(g.model_copy(update={"m": g.m * scale}))
        weight_cycles += mapped.cycles
        weight_bytes += int(g.k * g.n * g.weight_bits / 8) * g.count * g.repeat
        traffic += mapped.tiling.traffic_bytes * g.count * g.repeat
        macs += mapped.gemm.macs
    plans, attention_cycles, kv_bytes, other_bytes = [], 0, 0, 0
    for section in profile.phase(phase).sections:
        if section.kind == "embed":
            other_bytes += sum(layer.out_elems for layer in section.layers) * scale
        kv_len = None if tokens is None else (context if context is not None else section.past_tokens) + tokens
        shape = attention_shape(profile, section, phase, q_len=tokens, kv_len=kv_len)
        if shape is None:
            continue
        plan = plan_attention(shape, engine)
        plans.append(plan)
        attention_cycles += plan.total_cycles
        kv_bytes += 2 * shape.kv_len * shape.head_dim * shape.kv_head_instances * plan.chosen.kv_reads
        traffic += plan.total_offchip_bytes
        macs += 2 * shape.q_rows * shape.kv_len * shape.head_dim * shape.kv_head_instances
    other = engine.memory_cycles(other_bytes)
    past = plans[0].kv_len - plans[0].q_len if plans else 0
    return PassCost(model=profile.model, phase=phase, tokens=tokens or (plans[-1].q_len if plans else 1),
                    context=past, weight_cycles=weight_cycles, attention_cycles=attention_cycles, other_cycles=other,
                    cycles=weight_cycles + attention_cycles + other, weight_bytes=weight_bytes, kv_bytes=kv_bytes,
                    offchip_bytes=traffic + other_bytes, macs=macs, attention=plans)
