"""`hwagent bench ...`: speed benchmarks, printed as ratios against a baseline timed in the same run."""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Benchmarks: cost of hwagent's machinery against bare tool runs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
