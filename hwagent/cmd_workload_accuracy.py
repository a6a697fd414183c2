"""`hwagent baseline report --workload NAME`: a trained workload's accuracy from the expert accelerator's outputs."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hwagent.console import EXIT_DESIGN_FAILED, console, emit_json, fail


def workload_report(workload: str, samples: int, simulate: bool, json_out: bool) -> None:
    from workloads.on_accelerator import accuracy_report
    from workloads.tasks import CONFIGS

    if workload not in CONFIGS:
        fail(f"unknown workload {workload!r}; choose from {', '.join(CONFIGS)}")
    if samples < 1:
        fail(f"--samples {samples}: simulate at least one input")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=json_out) as progress:
        task = progress.add_task(workload, total=None)
        try:
            rep = accuracy_report(workload, samples, simulate, lambda msg: progress.update(task, description=msg))
        except (OSError, RuntimeError) as exc:
            fail(f"workload report failed: {exc}")
    rtl = rep["rtl"]
    if json_out:
        emit_json(rep)
    else:
        _print(rep)
    if "error" in rtl and simulate or rtl.get("bit_exact") is False:
        raise typer.Exit(EXIT_DESIGN_FAILED)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _print(rep: dict) -> None:
    b, rtl = rep["block"], rep["rtl"]
    console.print(f"[bold]{rep['workload']}[/]: one post-LN encoder block L={b['tokens']} d={b['d_model']} "
                  f"heads={b['heads']} d_ff={b['d_ff']} on the {b['array']} baseline; float tokeniser and head; "
                  f"int8 block quantised by the golden model's recipe ({rep['calibration_samples']} training "
                  f"samples); trained in {rep['train_seconds']:.1f} s")
    t = Table(title="Held-out accuracy")
    for col in ("inputs", "float", "int8 golden", "accelerator RTL"):
        t.add_column(col, justify="right")
    t.add_row(f"all {rep['held_out']}", _pct(rep["float_accuracy"]), _pct(rep["golden_accuracy"]), "")
    if "error" not in rtl:
        t.add_row(f"first {rep['rtl_samples']}", _pct(rtl["float_accuracy_same_inputs"]),
                  _pct(rtl["golden_accuracy_same_inputs"]), _pct(rtl["accuracy"]))
    console.print(t)
    console.print(f"integer-only vs float: block output cosine {rep['golden_vs_float_block_cosine']:.5f}, "
                  f"same prediction on {_pct(rep['golden_float_prediction_agreement'])} of the held-out inputs")
    if "error" in rtl:
        console.print(f"[red]accelerator: {rtl['error']}[/]")
        return
    console.print(f"accelerator vs golden: bit-exact {rtl['bit_exact']} ({rtl['outputs_checked']:,} int8 outputs, "
                  f"{rtl['mismatching_outputs']} differ); {rtl['block_cycles']:,} cycles per block; simulation "
                  f"{rtl['sim_wall_s']:.0f} s (Icarus{', cached' if rtl['from_cache'] else ''})")
