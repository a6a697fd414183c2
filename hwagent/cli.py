"""`hwagent`: the command line. Each cmd_* module registers its commands on `app`."""

from __future__ import annotations

import typer

from hwagent import (
    cmd_baseline,
    cmd_bench,
    cmd_demo,
    cmd_eval,
    cmd_plan,
    cmd_run,
    cmd_verify,
    cmd_workloads,
)

app = typer.Typer(
    name="hwagent",
    help="LLM-aided hardware design: workloads to accelerator RTL, verified with real EDA tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

cmd_demo.register(app)
cmd_verify.register(app)
cmd_bench.register(app)
cmd_baseline.register(app)
cmd_workloads.register(app)
cmd_plan.register(app)
cmd_eval.register(app)
cmd_run.register(app)

if __name__ == "__main__":
    app()
