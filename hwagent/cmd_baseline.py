"""`hwagent baseline report`: the expert baseline accelerator's measured cycles, model predictions and PPA."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hwagent.console import EXIT_DESIGN_FAILED, console, emit_json, fail

baseline_app = typer.Typer(help="Expert baseline accelerator (integer-only encoder block): numbers.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(baseline_app, name="baseline")


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


@baseline_app.command("report")
def report_cmd(
    config: Annotated[str, typer.Option("--config", help="Block configuration (tiny, tiny_vl2, tiny16, vit_tiny, "
                                                          "vit_b16, deit_s, bert_base).")] = "vit_tiny",
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")] = False,
    no_sim: Annotated[bool, typer.Option("--no-sim", help="Use cached simulations only (else the model).")] = False,
    no_ppa: Annotated[bool, typer.Option("--no-ppa", help="Skip synthesis (PPA and derived figures).")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the random block and input used in simulation.")] = 0,
    top_timeout: Annotated[float, typer.Option(help="Seconds allowed for synthesizing the top (else the top is "
                                                    "composed from the unit syntheses).")] = 3600.0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Syntheses run in parallel (one Yosys + OpenSTA "
                                                                   "process each); default: the number of cores.")]
        = os.cpu_count() or 1,
    workload: Annotated[str | None, typer.Option(help="Instead: task accuracy of a trained workload (digits-vit, "
                                                      "cancer-tab) from the accelerator's own outputs.")] = None,
    samples: Annotated[int, typer.Option(help="With --workload: held-out inputs simulated on the RTL.")] = 32,
) -> None:
    """Cycles per GEMM and per block (simulated where the block fits), full-size predictions, PPA per unit."""
    if workload is not None:
        from hwagent.cmd_workload_accuracy import workload_report

        workload_report(workload, samples, simulate=not no_sim, json_out=json_out)
        return
    from accelerator_baseline.golden import CONFIGS
    from accelerator_baseline.report import build_report

    if config not in CONFIGS:
        fail(f"unknown config {config!r}; choose from {', '.join(CONFIGS)}")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=json_out) as progress:
        task = progress.add_task("baseline report", total=None)
        try:
            rep = build_report(config, simulate=not no_sim, with_ppa=not no_ppa, seed=seed,
                               progress=lambda msg: progress.update(task, description=msg), top_timeout_s=top_timeout,
                               jobs=jobs)
        except (OSError, RuntimeError) as exc:
            fail(f"baseline report failed: {exc}")
    failed = rep["block"].get("simulation_failed")
    if json_out:
        emit_json(rep)
    else:
        _print(rep)
    if failed or rep["block"].get("bit_exact") is False:
        raise typer.Exit(EXIT_DESIGN_FAILED)


def _cache_line(ppa: dict) -> str:
    from verify.paths import cache_dir

    synthesized = [p for p in ppa.values() if p and "cached" in p]
    cached = sum(p["cached"] for p in synthesized)
    return (f"PPA: {cached} of {len(synthesized)} syntheses from the cache ({cache_dir('ppa')}), "
            f"{len(synthesized) - cached} run now ({sum(p['synthesis_s'] for p in synthesized if not p['cached']):.0f} "
            "s of tool time).")


def _print(rep: dict) -> None:
    from accelerator_baseline.report import synthesis_source

    b = rep["block"]
    console.print(f"[bold]Baseline block {b['config']}[/]: L={b['tokens']} d={b['d_model']} heads={b['heads']} "
                  f"d_ff={b['d_ff']} on a {b['array']} array - technology {rep['technology']}")
    if b["source"] == "simulation":
        console.print(f"bit-exact vs golden model: {b['bit_exact']} ({b['outputs_checked']} outputs, seed {b['seed']})")
    elif b.get("simulation_failed"):
        console.print(f"[red]simulation failed: {b['simulation_failed']}[/]")
    q = rep.get("quantisation_error")
    if q:
        console.print("integer vs float64 block output (held-out inputs): " + ", ".join(
            f"{kind} cosine {q[kind]['cosine']:.5f} mse {q[kind]['mse']:.5f}" for kind in ("random", "calibration")))
    t = Table(title=f"GEMMs ({'simulated' if b['source'] == 'simulation' else 'cycle model'}; cycles = feed window, "
                    "operand waits included)")
    for col in ("GEMM", "M", "N", "K", "cycles", "stalls", "ideal", "tile ideal", "utilization", "tile eff."):
        t.add_column(col, justify="right")
    for g in rep["gemms"]:
        t.add_row(g["name"], str(g["M"]), str(g["N"]), str(g["K"]), _f(g["cycles"]), _f(g["stall_cycles"]),
                  _f(g["ideal_cycles"]), _f(g["tile_ideal_cycles"]), _f(g["utilization"]), _f(g["tile_efficiency"]))
    console.print(t)
    console.print(f"block_cycles {b['block_cycles']:,} ({b['source']}), model {b['model_block_cycles']:,}; "
                  f"sum of tile ideals {b['tile_ideal_cycles']:,}; block_over_tile_ideal "
                  f"{b['block_over_tile_ideal']:.4f}; utilization {b['utilization']:.4f}")
    if rep["model_vs_simulation"]:
        t = Table(title="Analytic model vs simulation")
        for col in ("config", "simulated", "model", "bit-exact"):
            t.add_column(col, justify="right")
        for m in rep["model_vs_simulation"]:
            t.add_row(m["config"], _f(m["simulated"]), _f(m["model"]), str(m["bit_exact"]))
        console.print(t)
    t = Table(title="Full-size blocks (analytic model)")
    for col in ("config", "L", "d", "MACs", "block cycles", "tile ideal", "block/tile ideal", "utilization"):
        t.add_column(col, justify="right")
    for f in rep["full_size"]:
        t.add_row(f["config"], str(f["tokens"]), str(f["d_model"]), _f(f["macs"]), _f(f["block_cycles"]),
                  _f(f["tile_ideal_cycles"]), _f(f["block_over_tile_ideal"], 4), _f(f["utilization"], 4))
    console.print(t)
    t = Table(title="Vector lanes trade-off (model): block cycles / sum of tile ideals")
    configs = [k for k in rep["vector_lanes"][0] if k != "vector_lanes"]
    for col in ("VL", *configs):
        t.add_column(col, justify="right")
    for row in rep["vector_lanes"]:
        t.add_row(str(row["vector_lanes"]), *(_f(row[c], 4) for c in configs))
    console.print(t)
    if "ppa" in rep:
        t = Table(title="PPA (verify.ppa, OSU018; SRAM macros from the stated model)")
        for col in ("unit", "logic um2", "SRAM um2", "flops", "fmax MHz", "power mW @100MHz", "synthesis", "note"):
            t.add_column(col, justify="right")
        for name, p in rep["ppa"].items():
            if p is not None and "error" in p:
                t.add_row(name, "error", "", "", "", "", "", p["error"][:60])
            elif p is None:
                t.add_row(name, "n/a", "", "", "", "", "", "unit PPA missing")
            else:
                missing = p.get("missing") or []
                t.add_row(name, _f(p["logic_area_um2"], 0), _f(p.get("sram_area_um2") or None, 0), _f(p.get("flops")),
                          _f(p.get("fmax_mhz"), 1), _f(p.get("power_mw")), synthesis_source(p),
                          p.get("note", "") + (f" (missing: {', '.join(missing)})" if missing else ""))
        console.print(t)
        console.print(_cache_line(rep["ppa"]), highlight=False)
        t = Table(title="On-chip buffers (SRAM model)")
        for col in ("config", "KiB", "SRAM mm2", "SRAM mW @100MHz"):
            t.add_column(col, justify="right")
        for name, m in rep["sram"].items():
            t.add_row(name, _f(m["kib"], 0), _f(m["area_um2"] / 1e6, 2), _f(m["power_mw"], 1))
        console.print(t)
        t = Table(title="Derived (top logic + SRAM; cycles as above)")
        for col in ("config", "clock MHz", "latency us", "GOPS", "GOPS/mm2 logic", "GOPS/mm2 all", "GOPS/W",
                    "energy/block uJ"):
            t.add_column(col, justify="right")
        for name, d in rep["derived"].items():
            for entry in (v for v in d.values() if isinstance(v, dict)):
                t.add_row(name, _f(entry["clock_mhz"], 1), _f(entry["latency_us"], 2), _f(entry["gops"], 2),
                          _f(entry["gops_per_mm2_logic"], 2), _f(entry["gops_per_mm2"], 3),
                          _f(entry.get("gops_per_w"), 1), _f(entry.get("energy_per_block_uj"), 2))
        console.print(t)
    console.print("Assumptions: " + "; ".join(rep["assumptions"]), highlight=False)
