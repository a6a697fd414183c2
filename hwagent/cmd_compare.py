"""`hwagent compare`: generated designs next to the expert / reference ones, the hybrid block, the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hwagent.console import EXIT_OK, console, emit_json, err_console, fail


def register(app: typer.Typer) -> None:
    app.command(name="compare")(compare_cmd)


def _ratio(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def compare_cmd(
    runs: Annotated[list[Path], typer.Argument(help="Agent run dirs (or folders of them) and eval dirs.")],
    out: Annotated[Path, typer.Option(help="Where compare.json, compare.md and compare.html go.")],
    block: Annotated[list[str] | None, typer.Option("--block", help="Run the hybrid block on this golden config "
                                                                    "(tiny, tiny16, vit_tiny; repeatable).")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="Also price the all-expert qblock_top of each block "
                                                              "config (tiny without --block).")] = False,
    clock_mhz: Annotated[float, typer.Option(help="Clock target for timing and power (every design).")] = 100.0,
    activity: Annotated[float, typer.Option(help="Switching activity for power (0..1).")] = 0.1,
    specs: Annotated[Path | None, typer.Option(help="`hwagent spec` output: its design-space points go in the "
                                                    "area vs latency plot.")] = None,
    block_ppa: Annotated[bool, typer.Option("--block-ppa/--no-block-ppa", help="Synthesize the hybrid and the "
                                                                               "expert tops.")] = True,
    data: Annotated[str | None, typer.Option(help="Benchmark data folder (default HWAGENT_DATA_DIR).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print compare.json on stdout.")] = False,
) -> None:
    """Generated designs vs their references (official verdict, PPA ratios), the hybrid block, an HTML report."""
    from accelerator_baseline.golden import CONFIGS
    from evals.compare.compare import compare
    from evals.compare.designs import DesignError
    from evals.compare.pricing import ASSUMPTIONS, Settings
    from evals.compare.report import write_report
    from evals.data import DataMissing

    for path in runs:
        if not path.is_dir():
            fail(f"no such folder: {path}")
    unknown = [name for name in block or [] if name not in CONFIGS]
    if unknown:
        fail(f"unknown block config {unknown[0]!r}: choose one of {', '.join(CONFIGS)}")
    if specs is not None and not (specs / "mapping.json").is_file():
        fail(f"{specs} holds no mapping.json (the output folder of `hwagent spec`)")
    if clock_mhz <= 0 or not 0 <= activity <= 1:
        fail("--clock-mhz must be > 0 and --activity within [0, 1]")
    out_console = err_console if json_out else console
    with out_console.status("comparing ...") as status:
        try:
            result = compare(runs, out, Settings(clock_mhz, activity), blocks=block or [], data=data, specs=specs,
                             baseline=baseline, block_ppa=block_ppa, progress=status.update)
        except (DesignError, DataMissing, KeyError) as exc:
            fail(str(exc.args[0] if isinstance(exc, KeyError) else exc))
        markdown, page = write_report(out, result)
    if json_out:
        emit_json(result)
        raise typer.Exit(EXIT_OK)
    _print(result)
    console.print(f"[dim]PPA: {ASSUMPTIONS}[/]")
    console.print(f"report: {page}\n        {markdown}\n        {out / 'compare.json'}", highlight=False)


def _print(result: dict) -> None:
    table = Table(title=f"generated vs reference at {result['settings']['clock_mhz']:g} MHz, activity "
                        f"{result['settings']['activity']:g} (ratio; 1.0 = reference)")
    for column in ("design", "by", "verdict", "status", "area", "fmax", "power", "energy/op"):
        table.add_column(column)
    for row in result["designs"]:
        ratios = row.get("ratios", {})
        table.add_row(row["name"], row["model"] or "-", row["verdict"], row["status"],
                      *[_ratio(ratios.get(k)) for k in ("area_um2", "fmax_mhz", "power_mw", "energy_pj_per_op")])
    console.print(table)
    for row in result["designs"]:
        for note in row.get("notes", []):
            console.print(f"[yellow]{row['name']}: {note}[/]", highlight=False)
    if result["hybrid"]:
        hybrid = Table(title="hybrid block: expert qblock_top with the generated unit (top ratio vs all-expert top)")
        for column in ("unit", "design", "block", "bit-exact", "cycles / model", "area", "fmax", "power",
                       "energy/block"):
            hybrid.add_column(column)
        for row in result["hybrid"]:
            ratios = row.get("top_ratios", {})
            exact = "yes" if row["bit_exact"] else f"no: {row.get('detail', row['status'])}"
            top = ([_ratio(ratios.get(k)) for k in ("area_um2", "fmax_mhz", "power_mw", "energy_pj_per_op")]
                   if ratios else ["-"] * 4)
            hybrid.add_row(row["unit"], row["design"], row["config"], exact,
                           f"{row.get('block_cycles', '-')} / {row['model_cycles']}", *top)
        console.print(hybrid)
        if not any("top_ratios" in row or "top_ppa_error" in row for row in result["hybrid"]):
            console.print("[dim]top PPA not synthesized (--no-block-ppa); --block-ppa adds the hybrid and the "
                          "all-expert qblock_top (minutes, cached afterwards)[/]")
        for row in result["hybrid"]:
            if "top_ppa_error" in row:
                console.print(f"[yellow]{row['design']}: top PPA failed: {row['top_ppa_error']}[/]", highlight=False)
    if result["scripted"]:
        console.print("[yellow]A design here came from a SCRIPTED transcript (not a live model); the tools are "
                      "real.[/]")
