"""Spec derivation: a (compressed) workload profile + a hardware budget -> per-unit accelerator specs.

`derive(profile, budget)` picks the array shape, dataflow and tiling (spec_templates.mapping, roofline on the
shared cycle model), computes the integer constants of the workload (requantiser multipliers, softmax, GELU
and LayerNorm constants, from the profiled activation ranges and the golden model's constant builders), and
builds one spec per unit: GEMM engine, requantiser, softmax, GELU, LayerNorm, each with golden vectors and a
cocotb testbench. `write_specs` writes them as files: <unit>/spec.yaml (spec_templates.spec format),
<unit>/spec.md (Jinja), <unit>/tb.py, <unit>/vectors.json, plus mapping.json and README.md for the design.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from accelerator_baseline import golden as G
from accelerator_baseline.hwmap import rtl_parameters
from spec_templates.mapping import (
    FIXED_AREA_UM2,
    PE_AREA_UM2,
    SRAM_UM2_PER_KIB,
    HardwareBudget,
    Mapping,
    choose_mapping,
    gemms_of,
    map_gemm,
    pick,
)
from spec_templates.spec import Clock, Latency, PPABudget, Reset, Spec, dump_spec, render_markdown
from spec_templates.templates import render
from spec_templates.units import UNITS, Unit
from workloads.profile import LayerProfile, ModelProfile, SectionProfile

INT8_MAX = 127
AREA_SLACK = 1.25  # budgets leave 25 % over the area model
GELU_IN_W = 34  # the streaming i-GELU's input width (accelerator_baseline/rtl/igelu.v)
REQUANT_IN_W = 40


@dataclass
class UnitSpec:
    key: str
    unit: Unit | None  # None: no standalone testbench (the block top)
    params: dict[str, int]
    spec: Spec
    vectors: list[dict[str, int]]
    testbench: str
    markdown: str = ""
    role: str = ""


@dataclass
class Derivation:
    model: str
    budget: HardwareBudget
    mapping: Mapping
    alternatives: dict[str, int]  # best cycles per dataflow
    constants: dict
    units: list[UnitSpec] = field(default_factory=list)
    weight_bits: dict[str, float] = field(default_factory=dict)
    engine: dict = field(default_factory=dict)  # the emitted GEMM engine (output-stationary RTL template)
    phases: dict[str, dict] = field(default_factory=dict)  # every phase on the chosen array

    def area_estimate_mm2(self) -> dict[str, float]:
        """Area model of the emitted design (mapping.py constants): array, SRAM, the other units."""
        array = self.engine.get("rows", 0) * self.engine.get("cols", 0) * PE_AREA_UM2 / 1e6
        sram = self.budget.sram_kib * SRAM_UM2_PER_KIB / 1e6
        return {"array": round(array, 3), "sram": round(sram, 3), "other": round(FIXED_AREA_UM2 / 1e6, 3),
                "total": round(array + sram + FIXED_AREA_UM2 / 1e6, 3)}

    def summary(self) -> dict:
        m = self.mapping
        return {"model": self.model, "phase": m.phase, "array": f"{m.rows}x{m.cols}", "dataflow": m.dataflow,
                "total_cycles": m.total_cycles, "utilization": round(m.utilization, 4),
                "latency_ms": round(m.latency_ms, 4), "alternatives": self.alternatives, "engine": self.engine,
                "phases": self.phases, "area_estimate_mm2": self.area_estimate_mm2(),
                "units": [{"unit": u.key, "module": u.spec.name, "params": u.params, "vectors": len(u.vectors)}
                          for u in self.units]}


def weight_bits_of(bits_map: list) -> dict[str, float]:
    """Average stored weight bits per block GEMM (keyed like mapping.gemms_of) from a compression bit map."""
    sums: dict[str, list[float]] = {}
    for unit in bits_map:
        key = f"{unit.stack}.block.{unit.layer}"
        total = sums.setdefault(key, [0.0, 0.0])
        total[0] += unit.bits * unit.params * unit.weight
        total[1] += unit.params * unit.weight
    return {key: bits / count for key, (bits, count) in sums.items() if count}


def _main_block(profile: ModelProfile) -> SectionProfile:
    blocks = [s for s in profile.main_phase.sections if s.kind == "block"]
    if not blocks:
        raise ValueError(f"profile of {profile.model} has no transformer block")
    return max(blocks, key=lambda s: s.totals.macs * s.repeat)


def _scale(layer: LayerProfile | None, what: str = "out") -> float | None:
    if layer is None or layer.ranges is None:
        return None
    value = layer.ranges.out_absmax if what == "out" else layer.ranges.in_absmax
    return max(value, 1e-6) / INT8_MAX


def workload_constants(profile: ModelProfile) -> dict:
    """Integer constants from the activation ranges (max-abs int8 scales): requantiser and softmax of the main
    block; GELU and LayerNorm of the first block that has them (a VLM's vision tower for its decoder)."""
    block = _main_block(profile)
    blocks = [block] + [s for s in profile.main_phase.sections if s.kind == "block" and s is not block]
    layers = {layer.name: layer for layer in block.layers}
    gelu_block = next((b for b in blocks if any(layer.op == "gelu" for layer in b.layers)), None)
    ln_block = next((b for b in blocks if any(layer.op == "layernorm" for layer in b.layers)), block)
    softmax = next((layer for layer in block.layers if layer.op == "softmax"), None)
    ctx: dict = {"model": profile.model, "stack": block.stack, "tokens": block.tokens,
                 "count": softmax.row_len if softmax else block.tokens,
                 "hidden": next((layer.row_len for layer in ln_block.layers if layer.name == "norm1"), 0),
                 "k": max((layer.k for layer in block.layers if layer.op == "linear"), default=0),
                 "has_gelu": gelu_block is not None,
                 "norm": next((layer.op for layer in ln_block.layers if layer.op in ("layernorm", "rmsnorm")), None)}
    if block.layers[0].ranges is None:
        ctx["note"] = "profile has no activation ranges (--no-ranges): default constants used"
        return ctx
    table = []
    for layer in block.layers:
        if layer.op != "linear" or layer.ranges is None or layer.ranges.w_absmax is None:
            continue
        ratio = _scale(layer, "in") * (layer.ranges.w_absmax / INT8_MAX) / _scale(layer)
        try:
            rq = G.requant_params(ratio)
        except ValueError:
            continue
        table.append((layer.name, [rq.mult, rq.shift]))
    ctx["requant_table"] = table
    ctx["requant_params"] = [pair for _, pair in table]
    q, k = layers.get("attn.q"), layers.get("attn.k")
    qk = layers.get("attn.qk")
    if q is not None and k is not None and qk is not None:
        head_dim = qk.k
        ctx["softmax_scale"] = _scale(q) * _scale(k) / math.sqrt(head_dim)
        ctx["softmax_constants"] = vars(G.softmax_constants(ctx["softmax_scale"])) | {}
    fc1 = next((layer for layer in gelu_block.layers if layer.name == "mlp.fc1"), None) if gelu_block else None
    if fc1 is not None and fc1.ranges is not None and fc1.ranges.w_absmax:
        ctx["gelu_scale"] = _scale(fc1, "in") * fc1.ranges.w_absmax / INT8_MAX
        gelu = G.gelu_constants(ctx["gelu_scale"])
        ctx["gelu_constants"] = {"pre_shift": gelu.pre_shift, "q_b": gelu.q_b, "q_c": gelu.q_c}
    norm = next((layer for layer in ln_block.layers if layer.name == "norm1"), None)
    if norm is not None and norm.ranges is not None:
        ctx["ln_out_scale"] = _scale(norm)
        ln = G.layernorm_constants([1.0] * norm.row_len, [0.0] * norm.row_len, ctx["ln_out_scale"])
        ctx["ln_shift"] = ln.shift
    return ctx


def _render_unit_markdown(derivation: Derivation, unit: UnitSpec) -> str:
    return render("unit.md.j2", d=derivation, u=unit, m=derivation.mapping, body=render_markdown(unit.spec))


def derive(profile: ModelProfile, budget: HardwareBudget, *, weight_bits: dict[str, float] | None = None,
           vector_count: int | None = None, seed: int = 1) -> Derivation:
    """Choose the mapping and build the unit specs for `profile` under `budget`.

    `vector_count` caps the row length used in the softmax / LayerNorm golden vectors (simulation time);
    the workload's real row length is stated in the spec text."""
    mapping = choose_mapping(profile, budget, weight_bits=weight_bits)
    alternatives: dict[str, int] = {}
    for cand in mapping.candidates:
        alternatives.setdefault(f"{cand['dataflow']} {cand['rows']}x{cand['cols']}", cand["cycles"])
    rows, cols, _ = pick(mapping.candidates, "output-stationary")
    os_cycles = next(c["cycles"] for c in mapping.candidates
                     if (c["rows"], c["cols"], c["dataflow"]) == (rows, cols, "output-stationary"))
    ctx = workload_constants(profile)
    ctx["mapping"] = mapping.model_dump(include={"rows", "cols", "dataflow", "phase", "total_cycles",
                                                 "utilization"})
    derivation = Derivation(model=profile.model, budget=budget, mapping=mapping,
                            alternatives=dict(list(alternatives.items())[:6]), constants=ctx,
                            weight_bits=weight_bits or {})
    for phase in profile.phases:  # e.g. decode of a decoder, on the array chosen for the main phase
        mapped = [map_gemm(g, mapping.rows, mapping.cols, mapping.dataflow, budget)
                  for g in gemms_of(profile, phase.name, weight_bits)]
        cycles = sum(m.cycles for m in mapped)
        macs = sum(m.gemm.macs for m in mapped)
        derivation.phases[phase.name] = {
            "cycles": cycles, "latency_ms": round(cycles / (budget.clock_mhz * 1e3), 4),
            "utilization": round(macs / (cycles * mapping.rows * mapping.cols), 4) if cycles else 0.0,
            "memory_bound_gemms": sum(m.bound == "memory" for m in mapped), "gemms": len(mapped)}
    # The GEMM engine's RTL template (the baseline array) is output-stationary: emit the best OS shape.
    derivation.engine = {"rows": rows, "cols": cols, "dataflow": "output-stationary", "cycles": os_cycles,
                         "vs_best": round(os_cycles / mapping.total_cycles, 4)}
    clock = budget.clock_mhz
    lanes = rows
    vec_ctx = ctx | {"count": min(ctx["count"], vector_count or ctx["count"])}
    plan = [("gemm_engine", "systolic_array", {"R": rows, "C": cols}, ctx,
             PPABudget(clock_mhz=clock, max_area_um2=round(rows * cols * PE_AREA_UM2 * AREA_SLACK))),
            ("requantiser", "requant", {"LANES": lanes, "IN_W": REQUANT_IN_W}, ctx,
             PPABudget(clock_mhz=clock, max_area_um2=round(FIXED_AREA_UM2 * lanes / 16 * AREA_SLACK / 2)))]
    if ctx.get("softmax_constants") or "softmax_scale" not in ctx:
        plan.append(("softmax", "softmax", {"LANES": lanes}, vec_ctx, PPABudget(clock_mhz=clock)))
    if ctx["norm"] is not None:
        plan.append(("layernorm", "layernorm", {"LANES": lanes}, vec_ctx, PPABudget(clock_mhz=clock)))
    if ctx["has_gelu"]:
        plan.append(("gelu", "igelu", {"LANES": lanes}, ctx, PPABudget(clock_mhz=clock)))
    for key, recipe, params, unit_ctx, ppa in plan:
        if recipe not in UNITS:
            continue
        unit = UNITS[recipe]
        spec, vectors, tb = unit.build(params, unit_ctx, seed=seed, ppa=ppa,
                                       source=f"hwagent spec: {profile.model} ({mapping.phase}), unit {key}",
                                       clock_ns=round(1000 / clock, 3))
        derivation.units.append(UnitSpec(key=key, unit=unit, params=params, spec=spec, vectors=vectors,
                                         testbench=tb, role=recipe))
    derivation.units.append(_block_top(profile, ctx, rows, cols, clock))
    for unit_spec in derivation.units:
        unit_spec.markdown = _render_unit_markdown(derivation, unit_spec)
    return derivation


BLOCK_TOP_BEHAVIOUR = """\
The block top runs one whole integer-only transformer encoder block from on-chip buffers on an R x R
output-stationary array. Two engines run concurrently, synchronised per row block (R tokens): the array runs
the GEMM program

    Q, K, V^T, QK^T_0, then per head h >= 1: QK^T_h, AV_(h-1); AV_(H-1), out-proj (+x), MLP1 (GELU), MLP2 (+h1)

starting each row block of a GEMM as soon as its operands are ready, and the vector unit runs softmax,
LayerNorm 1 and LayerNorm 2 of every row block as soon as its input rows are written, so non-linear work
overlaps GEMMs. GEMM tiles stream back to back (one beat per cycle, a tile lasts max(K, R) beats); results
leave the array as column words through bias add, i-GELU, requantiser (+ residual) into the buffers. The
host loads weights, activations, biases and LayerNorm parameters over the valid/ready `ld_*` stream, sets
constants over the `cfg_*` register port (0x00 CTRL start/busy/done, 0x01 CYCLES, 0x02 LD_SEL, 0x03 LD_ADDR,
0x04 RD_ADDR, 0x05 RD_COUNT, 0x10..0x16 requant {{shift, mult}} of Q, K, V, O, PROJ, MLP1, MLP2, 0x18..0x1D
softmax constants, 0x20..0x22 GELU constants, 0x28/0x29 LN shifts) and reads results over the `out_*`
stream. Weights, biases, LayerNorm parameters and constants are double-buffered: they load for the next
START while a block runs; the block output overwrites x, so a second START runs the next layer on it.
Outputs are bit-identical to `golden_block` of accelerator_baseline.golden (post-LN block order).

Workload block ({workload}): L = {tokens} tokens (padded to a multiple of R = {rows}), d = {d}, {heads} heads,
d_ff = {dff}. Shared cycle model (accelerator_baseline.cycle_model.estimate_block): {cycles} cycles per
block, {util:.1%} array utilisation, {over:.3f} x the GEMM tile ideal.{note}
"""


BLOCK_TOP_NOTES = {
    "R": "array side (R x R PEs)", "L": "tokens (multiple of R)", "D": "model width",
    "H": "attention heads", "DFF": "MLP width", "VL": "vector-unit lanes (R / VL groups per row block)",
    "clk": "clock", "rst": "synchronous active-high reset",
    "cfg_we": "register write strobe", "cfg_addr": "register address", "cfg_wdata": "register write data",
    "cfg_rdata": "register read data (CTRL, CYCLES)", "ld_valid": "load beat valid",
    "ld_ready": "load beat accepted (activations only while idle)", "ld_data": "one buffer word (R lanes)",
    "out_valid": "result word valid", "out_ready": "result word accepted", "out_data": "R int8 results",
    "busy": "the block is running", "done": "one-cycle pulse at the end of the block",
    "dbg_step": "current program step (debug)", "dbg_head": "current head (debug)",
    "dbg_feed": "array fed this cycle (debug)", "dbg_wr": "result written this cycle (debug)",
    "dbg_wr_step": "program step of the written result (debug)",
    "dbg_vec_step": "vector task running: 5 softmax, 8 LN1, 11 LN2 (debug)",
    "dbg_vec_head": "head bank (softmax) or row block (LayerNorm) of the vector task (debug)"}


def _block_top(profile: ModelProfile, ctx: dict, rows: int, cols: int, clock: float) -> UnitSpec:
    """Spec of the whole-block scheduler (the baseline's qblock_top) for the workload's main block."""

    block = _main_block(profile)
    layers = {layer.name: layer for layer in block.layers}
    qk = layers.get("attn.qk")
    heads = qk.count // profile.batch if qk else 1
    d = layers["attn.o"].n if "attn.o" in layers else ctx["hidden"]
    mlp_in = layers.get("mlp.fc1") or layers.get("mlp.up")
    dff = mlp_in.n if mlp_in else 4 * d
    side = min(rows, cols)
    tokens = math.ceil(block.tokens / side) * side
    cfg = G.BlockConfig(profile.model, tokens=tokens, d_model=d, heads=heads, d_ff=dff, array_rows=side,
                        array_cols=side)
    notes = []
    try:
        cfg.check_rtl()
    except ValueError as exc:
        notes.append(f" The baseline RTL cannot run this shape as is: {exc}.")
    if qk is not None and heads * qk.k != d:
        notes.append(f" The attention inner width ({heads} heads x {qk.k} = {heads * qk.k}, after head pruning) "
                     f"differs from d = {d}; the baseline assumes d = heads x d_head.")
    stack_cfg = profile.config.model_dump()[block.stack or "text"]
    if stack_cfg["norm_position"] == "pre":
        notes.append(" The workload is a pre-LN block; the baseline scheduler implements the post-LN order.")
    if ctx["norm"] == "rmsnorm" or not ctx["has_gelu"]:
        notes.append(" The workload uses RMSNorm / SwiGLU, which the baseline block does not implement.")
    spec = block_top_spec(cfg, profile.model, clock, "".join(notes), f"hwagent spec: {profile.model}, unit block_top")
    return UnitSpec(key="block_top", unit=None, params=rtl_parameters(cfg, check=False), spec=spec, vectors=[], testbench="",
                    role="qblock_top")


def block_top_spec(cfg: G.BlockConfig, workload: str, clock: float | None, note: str = "", source: str = "") -> Spec:
    """Spec of the baseline's whole-block top (qblock_top) for one block shape, with the cycle-model estimate."""
    from accelerator_baseline.cycle_model import estimate_block
    from spec_templates.units import RTL_DIR, rtl_header

    est = estimate_block(cfg) if cfg.d_model % cfg.heads == 0 else None
    params, ports = rtl_header("qblock_top", RTL_DIR / "qblock_top.v")
    values = rtl_parameters(cfg, check=False)
    description = BLOCK_TOP_BEHAVIOUR.format(
        workload=workload, tokens=cfg.tokens, rows=cfg.array_rows, d=cfg.d_model, heads=cfg.heads, dff=cfg.d_ff,
        cycles=est.block_cycles if est else "n/a", util=est.utilization if est else 0.0,
        over=est.block_over_tile_ideal if est else 0.0, note=note)
    return Spec(name="qblock_top", title="Transformer block top (scheduler, array, requantiser, vector unit)",
                description=description,
                parameters=[p.model_copy(update={"default": values.get(p.name, p.default),
                                                  "description": BLOCK_TOP_NOTES.get(p.name, "")}) for p in params],
                ports=[p.model_copy(update={"description": BLOCK_TOP_NOTES.get(p.name, "")}) for p in ports],
                clock=Clock(name="clk"), reset=Reset(name="rst", active_low=False),
                latency=Latency(kind="handshake", initiation_interval=1,
                                description=f"start over CTRL, then busy until done; about "
                                            f"{est.block_cycles if est else 'n/a'} cycles per block."),
                ppa=PPABudget(clock_mhz=clock) if clock else None, source=source)


def write_specs(derivation: Derivation, out_dir: str | Path) -> list[Path]:
    """Write every unit's spec.yaml, spec.md, tb.py and vectors.json, plus mapping.json and README.md."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for unit in derivation.units:
        folder = out / unit.key
        folder.mkdir(exist_ok=True)
        files = {"spec.yaml": dump_spec(unit.spec), "spec.md": unit.markdown}
        if unit.unit is not None:
            files |= {"tb.py": unit.testbench, "vectors.json": json.dumps(unit.vectors) + "\n",
                      "reference.txt": "".join(f"{path}\n" for path in unit.unit.paths())}
        for name, text in files.items():
            (folder / name).write_text(text)
            written.append(folder / name)
    mapping = derivation.mapping.model_dump() | {"budget": derivation.budget.model_dump(),
                                                 "constants": {k: v for k, v in derivation.constants.items()
                                                               if k != "mapping"},
                                                 "summary": derivation.summary()}
    (out / "mapping.json").write_text(json.dumps(mapping, indent=1, default=str) + "\n")
    (out / "README.md").write_text(render("design.md.j2", d=derivation, m=derivation.mapping))
    return [*written, out / "mapping.json", out / "README.md"]
