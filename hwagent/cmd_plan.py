"""`hwagent plan`: execution-level co-optimisation of a workload on its derived accelerator (decode and
prefill time, speculative decoding, cascade, tiled attention, operator fusion); `hwagent spec` prints and
writes the same plan beside the unit specs."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hwagent.console import console, emit_json, fail

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
WIDE = 250  # columns when the output is not a terminal: tables are never cut


def register(app: typer.Typer) -> None:
    app.command(name="plan")(plan_cmd)


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        fail(f"{what}: expected comma-separated numbers, got {text!r}")


def load_workload(source: str, what: str = "workload"):
    """(profile, weight bits or None) from compressed.json, profile.json, or a preset / checkpoint profiled
    on the fly (shapes only)."""
    from pydantic import ValidationError

    from spec_templates.derive import weight_bits_of
    from workloads.compress import CompressedModel
    from workloads.config import PRESETS, resolve_model
    from workloads.profile import ModelProfile, profile_model

    path = Path(source)
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            fail(f"{source}: not JSON ({exc})")
        try:
            if isinstance(data, dict) and "bits_map" in data:
                compressed = CompressedModel.model_validate(data)
                changes = [f"{compressed.weight_bits_avg:.2f} bits"] + [
                    f"{p.stack} heads {p.heads[0]}->{p.heads[1]}, MLP {p.mlp_dim[0]}->{p.mlp_dim[1]}"
                    for p in compressed.pruning if p.heads[0] != p.heads[1] or p.mlp_dim[0] != p.mlp_dim[1]]
                name = f"{compressed.profile.model} compressed ({'; '.join(changes)})"
                return compressed.profile.model_copy(update={"model": name}), weight_bits_of(compressed.bits_map)
            return ModelProfile.model_validate(data), None
        except ValidationError as exc:
            first = exc.errors()[0]
            fail(f"{source}: not a profile or compressed model ({'.'.join(map(str, first['loc']))}: {first['msg']})")
    if source in PRESETS or path.is_dir():
        try:
            return profile_model(resolve_model(source), with_ranges=False), None
        except ValueError as exc:
            fail(str(exc).splitlines()[0])
    fail(f"{what} {source!r}: no such file, preset or checkpoint directory")


def _budget(path: Path):
    import yaml

    from spec_templates.mapping import BudgetError, parse_budget

    if not path.is_file():
        fail(f"no such file: {path}")
    try:
        return parse_budget(yaml.safe_load(path.read_text()), source=str(path))
    except yaml.YAMLError as exc:
        fail(f"{path}: not valid YAML ({str(exc).splitlines()[0]})")
    except UnicodeDecodeError as exc:
        fail(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})")
    except BudgetError as exc:
        fail(str(exc))


def plan_cmd(
    source: Annotated[str, typer.Argument(help="compressed.json, profile.json, or a preset name (shapes only).")],
    budget: Annotated[Path, typer.Option(help="Hardware budget YAML (as for `hwagent spec`).")],
    draft: Annotated[str | None, typer.Option(
        help="Draft / small model for speculative decoding and the cascade: compressed.json, profile.json or a "
             "preset.")] = None,
    alpha: Annotated[str, typer.Option(help="Acceptance rates of draft tokens, in [0, 1).")] = "0.6,0.8",
    gamma_max: Annotated[int, typer.Option(help="Largest number of draft tokens per verify step tried.")] = 8,
    measure: Annotated[bool, typer.Option(
        help="Measure alpha from the two models' agreement when both come with checkpoint weights.")] = True,
    samples: Annotated[int, typer.Option(help="Sequences sampled from the target to measure alpha.")] = 8,
    escalation: Annotated[str, typer.Option(help="Cascade escalation rates, in [0, 1].")] = "0.1,0.3,0.5",
    selftest_cost: Annotated[float, typer.Option(
        help="Cascade self-test cost, as a fraction of the small model's query.")] = 0.1,
    answer_tokens: Annotated[int, typer.Option(help="Decode tokens per cascade query.")] = 128,
    all_tiles: Annotated[bool, typer.Option("--all-tiles", help="Print every attention tile size.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write execution.json and execution.md into this folder.")]
    = None,
    json_out: JsonOpt = False,
) -> None:
    """Decode / prefill time, speculative decoding, cascade, tiled attention and fusion on the derived engine."""
    from spec_templates.execution.plan import PlanOptions, build_plan, plan_json, write_plan

    hw = _budget(budget)
    if answer_tokens < 1 or samples < 1:
        fail("--answer-tokens and --samples must be at least 1")
    options = PlanOptions(alphas=_floats(alpha, "--alpha"), gamma_max=gamma_max,
                          escalations=_floats(escalation, "--escalation"), selftest_cost=selftest_cost,
                          answer_tokens=answer_tokens)
    profile, bits = load_workload(source)
    small, small_bits = load_workload(draft, "draft") if draft else (None, None)
    try:
        if small is not None and measure and profile.config.checkpoint and small.config.checkpoint:
            options.measured_alpha, acceptance = _measure(profile, small, samples, not json_out)
        else:
            acceptance = None
        plan = build_plan(profile, hw, bits, small, small_bits, options)
    except ValueError as exc:  # ExecutionError, BudgetError, CheckpointError
        fail(str(exc).splitlines()[0])
    plan.acceptance = acceptance
    files = write_plan(plan, out) if out is not None else []
    if json_out:
        emit_json(plan_json(plan) | {"files": [str(f) for f in files]})
        return
    print_plan(plan, all_tiles)
    if files:
        console.print(f"execution plan written to [bold]{files[0]}[/] and [bold]{files[1]}[/]")


def _measure(target, draft, samples: int, show: bool):
    from workloads.acceptance import measure_acceptance

    with console.status("measuring the draft's acceptance rate", spinner="dots") if show else nullcontext():
        report = measure_acceptance(target.config.checkpoint, draft.config.checkpoint, samples=samples)
    return report.alpha, report.model_dump()


def _console() -> Console:
    return console if console.is_terminal else Console(width=WIDE, highlight=False)


def _table(title: str, columns: list[str], left: int = 1) -> Table:
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < left else "right", overflow="fold")
    return table


def _n(value: float) -> str:
    return f"{value:,}"


def print_plan(plan, all_tiles: bool = False) -> None:
    """Every table of the plan (numbers in full, never cut)."""
    out, e = _console(), plan.engine
    mhz = e["clock_mhz"]
    out.print(f"[bold]{plan.model}[/] on {e['rows']}x{e['cols']} output-stationary, {_n(e['sram_bytes'])} B SRAM, "
              f"{e['offchip_bytes_per_cycle']:g} B/cycle, {mhz:g} MHz: {plan.main.phase} {_n(plan.main.cycles)} "
              f"cycles = {plan.main.cycles / mhz / 1e3:.3f} ms (attention {_n(plan.main.attention_cycles)})")
    if plan.decode is not None:
        _print_decode(out, plan, mhz)
    if plan.cascade is not None:
        _print_cascade(out, plan.cascade)
    for att in plan.attention:
        _print_attention(out, att, all_tiles)
    _print_fusion(out, plan)
    out.print("Modelling assumptions: see [bold]Assumptions[/] in execution.md (or `assumptions` in --json).")


def _print_decode(out: Console, plan, mhz: float) -> None:
    table = _table("decode, batch 1", ["model", "tokens", "KV context", "cycles", "ms/token", "tokens/s",
                                       "weight bytes", "KV bytes"])
    rows = [(plan.model, plan.decode, plan.decode_tokens_per_s)]
    if plan.draft is not None:
        rows.append((f"draft {plan.draft.model}", plan.draft.decode, plan.draft.tokens_per_s))
    for name, cost, rate in rows:
        table.add_row(name, "1", _n(cost.context), _n(cost.cycles), f"{cost.cycles / mhz / 1e3:.3f}", f"{rate:.4f}",
                      _n(cost.weight_bytes), _n(cost.kv_bytes))
    out.print(table)
    if not plan.speculative:
        return
    spec = _table(f"speculative decoding, draft {plan.draft.model} (tokens/s without: {plan.decode_tokens_per_s:.4f})",
                  ["alpha", "gamma", "tokens/step", "draft cycles", "verify cycles (M=gamma+1)", "step cycles",
                   "tokens/s", "speed-up", ""], left=0)
    for sweep in plan.speculative:
        label = f"{sweep.alpha:g}" + (" measured" if sweep.source == "measured" else "")
        for p in sweep.points:
            spec.add_row(label, str(p.gamma), f"{p.expected_tokens:.4f}", _n(p.draft_cycles), _n(p.verify_cycles),
                         _n(p.step_cycles), f"{p.tokens_per_s:.4f}", f"{p.speedup:.4f}",
                         "best" if p.gamma == sweep.best.gamma else "")
    out.print(spec)
    for sweep in plan.speculative:
        b = sweep.best
        out.print(f"alpha {sweep.alpha:g}: best gamma {b.gamma}, {b.tokens_per_s:.4f} tokens/s vs "
                  f"{plan.decode_tokens_per_s:.4f} without ({b.speedup:.4f}x)")


def _print_cascade(out: Console, c) -> None:
    table = _table(f"cascade {c.small.model} -> {c.large.model} (query = prefill + {c.answer_tokens} tokens, "
                   f"self-test {c.selftest_cost:g} x small)", ["escalation", "latency s", "energy J",
                                                               "latency vs large", "energy vs large"], left=0)
    for p in c.points:
        table.add_row(f"{p.escalation:g}", f"{p.seconds:.6f}", f"{p.joules:.6f}", f"{p.latency_vs_large:.4f}",
                      f"{p.energy_vs_large:.4f}")
    out.print(table)
    out.print(f"small {c.small.seconds:.6f} s {c.small.joules:.6f} J, large {c.large.seconds:.6f} s "
              f"{c.large.joules:.6f} J; break-even escalation rate {c.break_even_latency:.4f} (latency), "
              f"{c.break_even_energy:.4f} (energy)")


def _print_attention(out: Console, att, all_tiles: bool) -> None:
    table = _table(f"attention {att.name}: {att.q_len} x {att.kv_len} keys, head_dim {att.head_dim}, "
                   f"{att.heads} heads on {att.kv_heads} KV heads x{att.instances} (per KV head)",
                   ["form", "Br x Bc", "on-chip B", "fits", "off-chip B", "cycles/head", "cycles/step", "bound"],
                   left=2)
    rows = [c for c in [att.materialised, *att.options]
            if all_tiles or c.form == "materialised" or c.br == c.bc or c is att.chosen or c == att.chosen]
    for c in rows:
        chosen = c == att.chosen
        table.add_row(c.form + (" (chosen)" if chosen else ""), f"{c.br}x{c.bc}", _n(c.onchip_bytes),
                      "yes" if c.fits else "no", _n(c.offchip_bytes), _n(c.cycles), _n(c.step_cycles), c.bound)
    out.print(table)
    ch, mat = att.chosen, att.materialised
    out.print(f"chosen {ch.label}: {_n(ch.onchip_bytes)} of {_n(att.sram_bytes)} B SRAM, "
              f"{ch.offchip_bytes / ch.cycles:.3f} of {att.offchip_bytes_per_cycle:g} B/cycle, off-chip "
              f"{_n(ch.offchip_bytes)} B vs materialised {_n(mat.offchip_bytes)} B per KV head "
              f"({att.traffic_vs_materialised:.4f}x)"
              + ("" if mat.fits else f"; materialised does not fit ({_n(mat.onchip_bytes)} B needed)"))


def _print_fusion(out: Console, plan) -> None:
    table = _table(f"operator fusion ({plan.fusion.phase}), per block instance", [
        "group", "x", "separate bytes", "fused bytes", "bytes saved", "separate cycles", "fused cycles",
        "cycles saved"])
    for g in plan.fusion.groups:
        table.add_row(f"{g.section}: {g.label}", str(g.repeat), _n(g.separate_bytes), _n(g.fused_bytes),
                      _n(g.separate_bytes - g.fused_bytes), _n(g.separate_cycles), _n(g.fused_cycles),
                      _n(g.separate_cycles - g.fused_cycles))
    t = plan.fusion_totals
    table.add_row("all (x repeat)", "", _n(t["separate_bytes"]), _n(t["fused_bytes"]), _n(t["bytes_saved"]),
                  _n(t["separate_cycles"]), _n(t["fused_cycles"]), _n(t["cycles_saved"]))
    out.print(table)
    for block in plan.fusion.expert:
        out.print(f"expert block {block.section} {block.config}: {_n(block.block_cycles)} cycles (baseline cycle "
                  f"model), buffers {_n(block.buffer_bytes)} B: " + ("fits" if block.fits else "does not fit the SRAM"))
