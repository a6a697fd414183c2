"""`hwagent profile | compress | spec`: from a transformer workload to per-unit accelerator specs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from hwagent.console import console, emit_json, fail

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def register(app: typer.Typer) -> None:
    app.command(name="profile")(profile_cmd)
    app.command(name="compress")(compress_cmd)
    app.command(name="spec")(spec_cmd)


def _progress(enabled: bool):
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                    transient=True, disable=not enabled)


def _bar_progress(enabled: bool):
    """Spinner, step description, a bar once the step count is known, elapsed time."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True, disable=not enabled)


def _write_and_print(result, out: Path | None, json_out: bool, printer, what: str) -> None:
    """Write the result model to `out` (if given), then print it as JSON or through `printer`."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.model_dump_json(indent=1))
    if json_out:
        emit_json(result.model_dump())
        return
    printer(result)
    if out is not None:
        console.print(f"{what} written to [bold]{out}[/]")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def print_accuracy_sweep(sweep) -> None:
    table = Table(title=f"{sweep.workload}: accuracy proxy vs real held-out accuracy "
                        f"({sweep.rows[0].accuracy.held_out} samples)")
    for column in ("bits budget", "avg bits", "heads -", "MLP -", "proxy cos", "pruned", "compressed",
                   "pruned + FT", "compressed + QAT"):
        table.add_column(column, justify="right")
    for r in sweep.rows:
        a = r.accuracy
        table.add_row(f"{r.bits_budget:g}", f"{r.weight_bits_avg:.2f}", str(r.prune_heads), f"{r.prune_mlp:.0%}",
                      f"{r.proxy_cosine:.4f}", _pct(a.pruned_accuracy), _pct(a.compressed_accuracy),
                      _pct(a.pruned_finetuned_accuracy), _pct(a.compressed_finetuned_accuracy))
    console.print(table)
    console.print(f"float accuracy {_pct(sweep.rows[0].accuracy.float_accuracy)}; Spearman rank correlation of the "
                  f"proxy with the compressed accuracy: {_rho(sweep.rank_correlation)}"
                  + (f", with the fine-tuned accuracy: {_rho(sweep.rank_correlation_finetuned)}"
                     if sweep.rows[0].accuracy.finetune_steps else ""))


def _rho(value: float | None) -> str:
    return "n/a (constant)" if value is None else f"{value:.3f}"


def _si(value: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.0f}"


def _load_json_model(path: Path, model, what: str):
    if not path.is_file():
        fail(f"no such file: {path}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        fail(f"{path}: not JSON ({exc})")
    if isinstance(data, dict) and what == "profile" and "profile" in data and "bits_map" in data:
        data = data["profile"]  # a compressed model also carries its profile
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{path}: not a {what} file ({'.'.join(map(str, first['loc']))}: {first['msg']})")


def profile_cmd(
    model: Annotated[str | None, typer.Argument(help="Preset name (see --list) or local HF checkpoint dir.")] = None,
    hf: Annotated[Path | None, typer.Option("--hf", help="Local HuggingFace checkpoint directory (config.json).")]
    = None,
    seq: Annotated[int | None, typer.Option(help="Text tokens (decoders: prompt length).")] = None,
    image_size: Annotated[int | None, typer.Option(help="Image side in pixels.")] = None,
    patch: Annotated[int | None, typer.Option(help="Patch size in pixels.")] = None,
    batch: Annotated[int, typer.Option(help="Batch size.")] = 1,
    calib_tokens: Annotated[int, typer.Option(help="Tokens per calibration forward (activation ranges).")] = 256,
    no_ranges: Annotated[bool, typer.Option("--no-ranges", help="Shapes only, skip calibration forwards.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write the profile JSON here.")] = None,
    list_presets: Annotated[bool, typer.Option("--list", help="List the presets and exit.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Profile a transformer / multimodal model per layer: GEMM shapes, MACs, bytes, activation ranges."""
    from workloads.config import PRESETS, load_hf_config, resolve_model, with_overrides
    from workloads.profile import profile_model

    if list_presets:
        rows = {name: f"{cfg.family}: " + ", ".join(f"{s.name} {s.layers}x(d={s.hidden}, h={s.heads})"
                                                   for s in (cfg.vision, cfg.text) if s) for name, cfg in PRESETS.items()}
        if json_out:
            emit_json(rows)
        else:
            for name, text in rows.items():
                console.print(f"[bold]{name}[/]  {text}")
        return
    if (model is None) == (hf is None):
        fail("give a preset name / checkpoint directory, or --hf PATH (exactly one)")
    try:
        cfg = load_hf_config(hf) if hf is not None else resolve_model(model)
        cfg = with_overrides(cfg, seq=seq, image_size=image_size, patch=patch)
        with _progress(not json_out) as progress:
            progress.add_task(f"profiling {cfg.name}", total=None)
            prof = profile_model(cfg, batch=batch, calib_tokens=calib_tokens, with_ranges=not no_ranges)
    except (ValueError, ValidationError) as exc:
        fail(str(exc).splitlines()[0] if not isinstance(exc, ValidationError) else
             f"bad model config: {exc.errors()[0]['msg']}")
    _write_and_print(prof, out, json_out, print_profile, "profile")


def print_profile(prof) -> None:
    for phase in prof.phases:
        table = Table(title=f"{prof.model} - {phase.name} (batch {prof.batch})")
        for column in ("section", "layer", "op", "M", "N", "K", "count", "MACs", "params", "|out| p99.9"):
            table.add_column(column, justify="right" if column in "M N K count MACs params" else "left")
        for section in phase.sections:
            label = f"{section.name} x{section.repeat}" if section.repeat > 1 else section.name
            for layer in section.layers:
                gemm = layer.op in ("linear", "matmul")
                table.add_row(label, layer.name, layer.op, *(str(v) if gemm else "" for v in
                              (layer.m, layer.n, layer.k, layer.count)),
                              _si(layer.macs) if gemm else f"{_si(layer.out_elems)} el",
                              _si(layer.params) if layer.params else "",
                              f"{layer.ranges.out_p999:.3g}" if layer.ranges else "")
                label = ""
        console.print(table)
        t = phase.totals
        console.print(f"[bold]{phase.name} totals[/]: {_si(t.macs)}MAC (weight GEMMs {_si(t.gemm_macs)}, "
                      f"attention {_si(t.attn_macs)}), params {_si(t.params)} ({_si(t.param_bytes)}B int8, "
                      f"{_si(2 * t.params)}B fp16), activations {_si(t.act_bytes)}B int8, "
                      f"softmax {_si(t.softmax_elems)} el, "
                      f"norm {_si(t.norm_elems)} el, GELU/SiLU {_si(t.act_fn_elems)} el, "
                      f"KV cache {_si(t.kv_cache_elems)} el")


def compress_cmd(
    profile: Annotated[Path, typer.Argument(help="profile.json from `hwagent profile`.")],
    bits_budget: Annotated[float, typer.Option(help="Average weight bits per parameter (4..8).")] = 6.0,
    memory_budget: Annotated[float | None, typer.Option(help="Block weight memory budget in MiB.")] = None,
    prune_heads: Annotated[int, typer.Option(help="Attention heads removed per block.")] = 0,
    prune_mlp: Annotated[float, typer.Option(help="Fraction of MLP channels removed per block.")] = 0.0,
    macs_budget: Annotated[float | None, typer.Option(
        help="GMAC budget per inference: pick the token-budget knee under it and apply it.")] = None,
    no_sweep: Annotated[bool, typer.Option("--no-sweep", help="Skip the token-budget sweep.")] = False,
    calib_tokens: Annotated[int, typer.Option(help="Tokens per calibration forward.")] = 64,
    proxy_depth: Annotated[int | None, typer.Option(
        help="Layers per stack in the accuracy proxy (default: all; 4 for stacks above 200M parameters).")] = None,
    finetune: Annotated[int, typer.Option(
        "--finetune", help="Trained workloads: fine-tune this many steps after pruning, and quantisation-aware "
                           "(straight-through fake quant) after compression; report both accuracies.")] = 0,
    accuracy_sweep: Annotated[bool, typer.Option(
        "--accuracy-sweep", help="Trained workloads: every bit budget (8, 6, 4) x pruning level, the proxy next to "
                                 "the real held-out accuracy, and their rank correlation.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write compressed.json (or the sweep) here.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Mixed-precision (8/6/4) bit allocation, head/MLP pruning and token-budget sweep of a profiled model."""
    from workloads.compress import accuracy_sweep as run_sweep
    from workloads.compress import compress
    from workloads.profile import ModelProfile

    if not 4 <= bits_budget <= 8:
        fail(f"--bits-budget {bits_budget} is outside 4..8 bits")
    if finetune < 0:
        fail(f"--finetune {finetune}: a step count must be >= 0")
    prof = _load_json_model(profile, ModelProfile, "profile")
    if (finetune or accuracy_sweep) and not prof.config.trained:
        fail(f"--finetune / --accuracy-sweep need a trained workload (digits-vit, cancer-tab); {prof.model} has "
             "random weights")
    try:
        with _bar_progress(not json_out) as progress:
            task = progress.add_task("compressing", total=None)
            if accuracy_sweep:
                result = run_sweep(prof, finetune_steps=finetune, progress=lambda msg, done, total: progress.update(
                    task, description=msg, completed=done, total=total))
            else:
                result = compress(prof, bits_budget=bits_budget,
                                  memory_budget_bytes=None if memory_budget is None else int(memory_budget * 2**20),
                                  prune_heads=prune_heads, prune_mlp=prune_mlp,
                                  macs_budget=None if macs_budget is None else int(macs_budget * 1e9),
                                  sweep=not no_sweep, calib_tokens=calib_tokens, proxy_depth=proxy_depth,
                                  finetune_steps=finetune, progress=lambda msg: progress.update(task, description=msg))
    except ValueError as exc:
        fail(str(exc).splitlines()[0])
    if accuracy_sweep:
        _write_and_print(result, out, json_out, print_accuracy_sweep, "accuracy sweep")
    else:
        _write_and_print(result, out, json_out, lambda r: print_compressed(r, prof), "compressed model")


def print_compressed(result, prof) -> None:
    table = Table(title=f"{result.source_model}: bit map (attention / MLP average bits per block instance)")
    for column in ("block", "attn bits", "mlp bits", "layers"):
        table.add_column(column)
    for key, groups in result.group_bits.items():
        stack, index = key.rsplit(".", 1)
        layers = " ".join(f"{u.layer.split('.')[-1]}:{u.bits}" for u in result.bits_map
                          if u.stack == stack and u.block == int(index))
        table.add_row(key, f"{groups.get('attn', 0):g}", f"{groups.get('mlp', 0):g}", layers)
    console.print(table)
    console.print(f"weights: {result.weight_bits_avg:.2f} bits avg, {_si(result.weight_bytes)}B "
                  f"(fp16 {_si(result.weight_bytes_fp16)}B), activations int{result.act_bits}")
    for report in result.pruning:
        console.print(f"pruning {report.stack}: heads {report.heads[0]} -> {report.heads[1]}, "
                      f"MLP {report.mlp_dim[0]} -> {report.mlp_dim[1]}")
    for pruned, quant in zip(result.proxies_float_pruned, result.proxies):
        console.print(f"accuracy proxy {quant.stack} ({quant.depth} layers): pruned float cos {pruned.cosine:.4f}; "
                      f"pruned + quantised cos {quant.cosine:.4f}, rel MSE {quant.rel_mse:.3g}")
    a = result.task_accuracy
    if a is not None:
        line = (f"held-out accuracy ({a.held_out} samples, real data): float {_pct(a.float_accuracy)}, pruned "
                f"{_pct(a.pruned_accuracy)}, pruned + quantised {_pct(a.compressed_accuracy)}")
        if a.finetune_steps:
            line += (f"; after {a.finetune_steps} fine-tuning steps: pruned {_pct(a.pruned_finetuned_accuracy)}, "
                     f"quantisation-aware {_pct(a.compressed_finetuned_accuracy)}")
        console.print(line)
    if result.sweep:
        sweep = Table(title=f"token-budget sweep ({result.sweep.knob})")
        for column in ("point", "tokens", "MACs", "cosine", "accuracy", ""):
            sweep.add_column(column)
        for point in result.sweep.points:
            mark = "knee" + (" (applied)" if result.sweep.applied else "") if point == result.sweep.knee else ""
            sweep.add_row(point.label, str(point.tokens), _si(point.macs), f"{point.cosine:.4f}",
                          _pct(point.accuracy), mark)
        console.print(sweep)
    before, after = prof.main_phase.totals, result.profile.main_phase.totals
    console.print(f"{prof.main_phase.name} MACs {_si(before.macs)} -> {_si(after.macs)}, "
                  f"params {_si(before.params)} -> {_si(after.params)}")


def spec_cmd(
    source: Annotated[Path, typer.Argument(help="compressed.json (`hwagent compress`) or profile.json.")],
    budget: Annotated[Path, typer.Option(help="Hardware budget YAML: pe_count, sram_kib, offchip_bytes_per_cycle, "
                                              "clock_mhz[, area_mm2, max_rows].")],
    out: Annotated[Path, typer.Option(help="Output folder for the unit specs.")] = Path("specs"),
    vector_rows: Annotated[int, typer.Option(help="Row length of the softmax/LayerNorm golden vectors.")] = 16,
    check: Annotated[bool, typer.Option("--check", help="Run every unit's testbench on its reference design.")]
    = False,
    json_out: JsonOpt = False,
) -> None:
    """Derive the array shape, dataflow and tiling, and write per-unit specs, golden vectors and testbenches."""
    import yaml

    from hwagent.cmd_plan import print_plan
    from spec_templates.derive import derive, weight_bits_of, write_specs
    from spec_templates.execution.plan import execution_plan, plan_summary, write_plan
    from spec_templates.mapping import BudgetError, parse_budget
    from workloads.compress import CompressedModel
    from workloads.profile import ModelProfile

    if not budget.is_file():
        fail(f"no such file: {budget}")
    try:
        hw = parse_budget(yaml.safe_load(budget.read_text()), source=str(budget))
    except yaml.YAMLError as exc:
        fail(f"{budget}: not valid YAML ({str(exc).splitlines()[0]})")
    except UnicodeDecodeError as exc:
        fail(f"{budget}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})")
    except BudgetError as exc:
        fail(str(exc))
    if vector_rows < 2:
        fail("--vector-rows must be at least 2")
    if not source.is_file():
        fail(f"no such file: {source}")
    try:
        data = json.loads(source.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{source}: not JSON ({exc})")
    if isinstance(data, dict) and "bits_map" in data:
        compressed = _load_json_model(source, CompressedModel, "compressed model")
        prof, bits = compressed.profile, weight_bits_of(compressed.bits_map)
    else:
        prof, bits = _load_json_model(source, ModelProfile, "profile"), None
    try:
        with _progress(not json_out) as progress:
            progress.add_task("deriving specs", total=None)
            derivation = derive(prof, hw, weight_bits=bits, vector_count=vector_rows)
            files = write_specs(derivation, out)
            plan = execution_plan(derivation, prof, hw, bits)  # hwagent plan's tables, beside the specs
            files += write_plan(plan, out)
    except (BudgetError, ValueError) as exc:
        fail(str(exc).splitlines()[0])
    checks = _check_units(derivation, out, json_out) if check else {}
    summary = derivation.summary() | {"out": str(out), "files": len(files), "checks": checks,
                                      "execution": plan_summary(plan)}
    if json_out:
        emit_json(summary)
    else:
        print_derivation(derivation, out, checks)
        print_plan(plan)
    if checks and not all(checks.values()):
        raise typer.Exit(1)


def _check_units(derivation, out: Path, quiet: bool) -> dict[str, bool]:
    from verify.sim import simulate_cocotb

    results = {}
    with _progress(not quiet) as progress:
        for unit in derivation.units:
            if unit.unit is None:
                continue
            progress.add_task(f"simulating {unit.key} reference", total=None)
            folder = out / unit.key
            sim = simulate_cocotb(unit.unit.paths(), folder / "tb.py", unit.spec.name, parameters=unit.params,
                                  extra_env={"HWAGENT_VECTORS": str((folder / "vectors.json").resolve())},
                                  timeout_s=300)
            results[unit.key] = sim.passed
    return results


def print_derivation(derivation, out: Path, checks: dict[str, bool]) -> None:
    m, e = derivation.mapping, derivation.engine
    console.print(f"[bold]{derivation.model}[/] ({m.phase}): best {m.rows}x{m.cols} {m.dataflow}, "
                  f"{m.total_cycles:,} cycles = {m.latency_ms:.2f} ms, utilisation {100 * m.utilization:.1f}%")
    why = ("" if m.dataflow == "output-stationary" and (m.rows, m.cols) == (e["rows"], e["cols"]) else
           ": the RTL template (the expert baseline's systolic array) is output-stationary, so the best "
           "output-stationary shape is emitted")
    console.print(f"GEMM engine emitted: {e['rows']}x{e['cols']} output-stationary, {e['cycles']:,} cycles "
                  f"({e['vs_best']:.3f}x best){why}", soft_wrap=True)
    area = derivation.area_estimate_mm2()
    console.print(f"area model: array {area['array']} + SRAM {area['sram']} + other {area['other']} = "
                  f"{area['total']} mm^2" + (f" (budget {derivation.budget.area_mm2} mm^2)"
                                             if derivation.budget.area_mm2 else ""))
    for name, phase in derivation.phases.items():
        console.print(f"  {name}: {phase['cycles']:,} cycles = {phase['latency_ms']} ms, utilisation "
                      f"{100 * phase['utilization']:.1f}%, {phase['memory_bound_gemms']}/{phase['gemms']} GEMMs "
                      "memory-bound")
    table = Table(title="per-GEMM mapping (best)")
    for column in ("GEMM", "M", "N", "K", "x", "tile", "cycles", "bound", "util"):
        table.add_column(column, justify="left" if column in ("GEMM", "tile", "bound") else "right")
    for g in m.gemms:
        table.add_row(g.gemm.name, str(g.gemm.m), str(g.gemm.n), str(g.gemm.k), str(g.gemm.count * g.gemm.repeat),
                      f"{g.tiling.tm}x{g.tiling.tn}x{g.tiling.tk}", _si(g.cycles), g.bound, f"{g.utilization:.2f}")
    console.print(table)
    units = Table(title=f"unit specs in {out}")
    for column in ("unit", "module", "parameters", "vectors", "reference check"):
        units.add_column(column)
    for unit in derivation.units:
        status = "" if unit.key not in checks else ("[green]pass[/]" if checks[unit.key] else "[red]FAIL[/]")
        units.add_row(unit.key, unit.spec.name, str(unit.params), str(len(unit.vectors)), status)
    console.print(units)
