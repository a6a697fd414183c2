"""`hwagent`: the command line. Each cmd_* module registers its commands on `app`."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer
import typer.rich_utils

from hwagent import (
    cmd_baseline,
    cmd_bench,
    cmd_compare,
    cmd_demo,
    cmd_eval,
    cmd_plan,
    cmd_run,
    cmd_verify,
    cmd_workloads,
)

if typer.rich_utils.MAX_WIDTH is None and not sys.stdout.isatty():
    typer.rich_utils.MAX_WIDTH = 120  # piped or logged help: wide enough that option names and models stay whole

app = typer.Typer(
    name="hwagent",
    help="LLM-aided hardware design: workloads to accelerator RTL, verified with real EDA tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"hwagent {version('hwagent')}")
        raise typer.Exit()


def _terminate(signum: int, _frame) -> None:
    """SIGTERM / SIGHUP: kill the tools still running (they run in sessions of their own, worker threads included)
    and unwind like an error, so temporary folders are removed and finished work stays written."""
    from verify.sandbox import kill_running

    kill_running()
    raise SystemExit(128 + signum)


@app.callback()
def main(show_version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = False) -> None:
    """LLM-aided hardware design: workloads to accelerator RTL, verified with real EDA tools."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)


cmd_demo.register(app)
cmd_verify.register(app)
cmd_bench.register(app)
cmd_baseline.register(app)
cmd_workloads.register(app)
cmd_plan.register(app)
cmd_eval.register(app)
cmd_run.register(app)
cmd_compare.register(app)

if __name__ == "__main__":
    app()
