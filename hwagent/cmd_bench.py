"""`hwagent bench ...`: speed benchmarks, printed as ratios against a baseline timed in the same run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from hwagent.console import console, emit_json

bench_app = typer.Typer(help="Benchmarks: cost of hwagent's machinery against bare tool runs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")


@bench_app.command("verify")
def bench_verify(iterations: Annotated[int, typer.Option(min=1, help="Timed iterations (the best is reported, as timeit does).")] = 10,
                 ppa: Annotated[bool, typer.Option(help="Also time PPA of the 4x4 MAC array.")] = True,
                 json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per-iteration cost of lint + sandboxed native simulation vs bare `iverilog && vvp`, and PPA time."""
    from evals import bench_verify

    with Progress(console=console, transient=True, disable=json_out) as progress:
        task = progress.add_task("lint + sim iterations", total=iterations)
        result = bench_verify.run(iterations, with_ppa=ppa,
                                  progress=lambda done, total: progress.update(task, completed=done))
    if json_out:
        emit_json(result.to_dict())
        return
    table = Table(title=f"bench verify: {result.design}, best of {result.iterations}")
    for column in ("figure", "measured", "target"):
        table.add_column(column, justify="right")
    targets = bench_verify.TARGETS
    table.add_row("bare iverilog && vvp", f"{result.bare_sim_s * 1e3:.1f} ms", "baseline")
    table.add_row("hwagent sandboxed sim", f"{result.hwagent_sim_s * 1e3:.1f} ms", "")
    table.add_row("overhead ratio", f"{result.overhead_ratio:.2f}x", f"<= {targets['overhead_ratio']}x")
    table.add_row("lint (3 tools)", f"{result.lint_s * 1e3:.1f} ms", "")
    table.add_row("lint + sim per iteration", f"{result.lint_plus_sim_s:.2f} s", f"<= {targets['lint_plus_sim_s']} s")
    if result.ppa_s is not None:
        table.add_row(f"PPA ({result.ppa_design})", f"{result.ppa_s:.1f} s", f"<= {targets['ppa_s']} s")
    console.print(table)
