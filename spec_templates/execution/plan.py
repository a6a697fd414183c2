"""The execution plan of one workload on its derived engine: attention tiling, fusion groups, prefill and
decode time, speculative decoding and a cascade with a draft model; JSON and Markdown (`hwagent plan`,
and `hwagent spec` writes it beside the unit specs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from spec_templates.execution import attention, decode, fusion, speculative
from spec_templates.execution import engine as engine_module
from spec_templates.execution.attention import AttentionPlan
from spec_templates.execution.decode import EnergyModel, PassCost, pass_cost
from spec_templates.execution.engine import Engine, ExecutionError, engine_for
from spec_templates.execution.fusion import FusionPlan, plan_fusion
from spec_templates.execution.speculative import (
    Cascade,
    QueryCost,
    SpeculativeSweep,
    cascade,
    speculative_point,
)
from spec_templates.mapping import HardwareBudget
from spec_templates.templates import render
from workloads.profile import ModelProfile

DECODERS = ("decoder", "vlm")


@dataclass
class PlanOptions:
    """What to sweep: acceptance rates, draft lengths, cascade escalation rates, energy constants."""

    alphas: list[float] = field(default_factory=lambda: [0.6, 0.8])
    measured_alpha: float | None = None
    gamma_max: int = 8
    escalations: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.5])
    selftest_cost: float = 0.1
    answer_tokens: int = 128
    energy: EnergyModel = field(default_factory=EnergyModel)


class DraftModel(BaseModel):
    model: str
    params: int
    decode: PassCost
    tokens_per_s: float


class ExecutionPlan(BaseModel):
    model: str
    engine: dict
    main: PassCost  # the main phase with the chosen attention forms
    attention: list[AttentionPlan]
    fusion: FusionPlan
    fusion_totals: dict[str, int]
    decode: PassCost | None = None
    decode_tokens_per_s: float | None = None
    draft: DraftModel | None = None
    speculative: list[SpeculativeSweep] = []
    cascade: Cascade | None = None
    acceptance: dict | None = None  # a measured acceptance rate and how it was measured
    assumptions: list[str]


def assumptions() -> list[str]:
    """Every modelling assumption, from the modules' documentation (first paragraph of each)."""
    out = []
    for module in (engine_module, attention, fusion, decode, speculative):
        text = " ".join(module.__doc__.split())
        out.append(f"{module.__name__.rsplit('.', 1)[-1]}: {text}")
    return out


def check_draft(target: ModelProfile, draft: ModelProfile) -> None:
    if target.config.family not in DECODERS:
        raise ExecutionError(f"a draft model needs a decoder target; {target.model} is a {target.config.family}")
    if draft.config.family not in DECODERS:
        raise ExecutionError(f"draft {draft.model} is a {draft.config.family}, not a decoder")
    big, small = target.phase("decode").totals.params, draft.phase("decode").totals.params
    if small > big:
        raise ExecutionError(f"draft {draft.model} ({small:,} parameters) is bigger than the target "
                             f"{target.model} ({big:,})")


def _query(profile: ModelProfile, engine: Engine, bits: dict | None, options: PlanOptions) -> QueryCost:
    pre, step = pass_cost(profile, engine, bits, "prefill"), pass_cost(profile, engine, bits, "decode")
    n = options.answer_tokens
    return QueryCost(model=profile.model, seconds=engine.seconds(pre.cycles + n * step.cycles),
                     joules=options.energy.joules(pre.macs + n * step.macs, pre.offchip_bytes + n * step.offchip_bytes))


def _speculative(target: ModelProfile, bits: dict | None, draft: DraftModel, engine: Engine,
                 plain: PassCost, options: PlanOptions) -> list[SpeculativeSweep]:
    speculative.check_gamma(options.gamma_max)
    verify = {g: pass_cost(target, engine, bits, "decode", tokens=g + 1, context=plain.context).cycles
              for g in range(1, options.gamma_max + 1)}
    alphas = [(a, "given") for a in options.alphas]
    if options.measured_alpha is not None:
        alphas.append((options.measured_alpha, "measured"))
    sweeps = []
    for alpha, source in alphas:
        if source == "given":
            speculative.check_alpha(alpha)
        points = [speculative_point(alpha, g, draft.decode.cycles, verify[g], plain.cycles, engine.budget.clock_mhz)
                  for g in verify]
        sweeps.append(SpeculativeSweep(alpha=alpha, source=source, points=points))
    return sweeps


def build_plan(profile: ModelProfile, budget: HardwareBudget, weight_bits: dict[str, float] | None = None,
               draft: ModelProfile | None = None, draft_bits: dict[str, float] | None = None,
               options: PlanOptions | None = None, engine: Engine | None = None) -> ExecutionPlan:
    """Everything for `profile` on its emitted engine (or `engine`); speculation and cascade need `draft`."""
    options = options or PlanOptions()
    for alpha in options.alphas:
        speculative.check_alpha(alpha)
    speculative.check_gamma(options.gamma_max)
    if draft is not None:
        check_draft(profile, draft)
    engine = engine or engine_for(profile, budget, weight_bits)
    main = pass_cost(profile, engine, weight_bits, profile.main_phase.name)
    fused = plan_fusion(profile, engine, weight_bits)
    plan = ExecutionPlan(model=profile.model, engine=engine.describe(), main=main, attention=main.attention,
                         fusion=fused, fusion_totals=fused.totals(), assumptions=assumptions())
    if profile.config.family not in DECODERS:
        return plan
    plan.decode = pass_cost(profile, engine, weight_bits, "decode")
    plan.decode_tokens_per_s = 1 / engine.seconds(plan.decode.cycles)
    if draft is None:
        return plan
    step = pass_cost(draft, engine, draft_bits, "decode", tokens=1, context=plan.decode.context)
    plan.draft = DraftModel(model=draft.model, params=draft.phase("decode").totals.params, decode=step,
                            tokens_per_s=1 / engine.seconds(step.cycles))
    plan.speculative = _speculative(profile, weight_bits, plan.draft, engine, plan.decode, options)
    plan.cascade = cascade(_query(draft, engine, draft_bits, options), _query(profile, engine, weight_bits, options),
                           options.selftest_cost, options.escalations, options.answer_tokens)
    return plan


def render_markdown(plan: ExecutionPlan) -> str:
    return render("execution/execution.md.j2", p=plan)


def execution_plan(derivation, profile: ModelProfile, budget: HardwareBudget,
                   weight_bits: dict[str, float] | None = None) -> ExecutionPlan:
    """The plan on the GEMM engine a derivation (`spec_templates.derive.derive`) emitted."""
    engine = Engine(derivation.engine["rows"], derivation.engine["cols"], budget)
    return build_plan(profile, budget, weight_bits, engine=engine)


def plan_summary(plan: ExecutionPlan) -> dict:
    """The headline figures: tokens/s, the chosen attention forms, fusion totals, best gamma per alpha."""
    data = plan_json(plan)
    return {"decode_tokens_per_s": plan.decode_tokens_per_s, "attention": data["attention_summary"],
            "fusion": plan.fusion_totals, "speculative_best": data["speculative_best"]}


def plan_json(plan: ExecutionPlan) -> dict:
    """The plan as JSON data, with the derived figures (totals, chosen tiles, best gamma) spelled out."""
    data = plan.model_dump()
    data["attention_summary"] = [{"name": a.name, "chosen": a.chosen.label, "materialised_fits": a.materialised.fits,
                                  "chosen_offchip_bytes": a.chosen.offchip_bytes,
                                  "materialised_offchip_bytes": a.materialised.offchip_bytes,
                                  "traffic_vs_materialised": a.traffic_vs_materialised,
                                  "total_cycles": a.total_cycles} for a in plan.attention]
    data["speculative_best"] = [s.best.model_dump() | {"source": s.source} for s in plan.speculative]
    return data


def write_plan(plan: ExecutionPlan, out_dir: str | Path) -> list[Path]:
    """execution.json and execution.md in `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "execution.json", out / "execution.md"]
    files[0].write_text(json.dumps(plan_json(plan), indent=1) + "\n")
    files[1].write_text(render_markdown(plan))
    return files
