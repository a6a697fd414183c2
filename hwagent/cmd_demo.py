"""`hwagent demo`: the main job end to end, offline and with no API key.

1. workload -> specs: profile ViT-Tiny, compress it (mixed precision + pruning), derive accelerator unit specs;
2. agent: design the 4-lane requantiser of mfm-accel/requant_4lane (the expert baseline's `requant` interface)
   with the LLM loop, driven by a SCRIPTED transcript (a recorded conversation, not a live model), judged by
   the suite's own testbench;
3. verify: lint, simulate and PPA a 4x4 int8 MAC array with the real tools;
4. compare: the generated requantiser next to the expert one (same PPA flow), the hybrid `tiny` block (the
   expert top running the golden model's quantized block with the generated requantiser) and the HTML report.
Each step is the same `hwagent` command a user would type; their outputs go to runs/demo/.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from hwagent.cmd_verify import demo_verify
from hwagent.console import EXIT_DESIGN_FAILED, EXIT_OK, console, fail


def register(app: typer.Typer) -> None:
    app.command(name="demo")(demo)


def _step(title: str, *args: str) -> None:
    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ hwagent {' '.join(args)}[/]", highlight=False)
    done = subprocess.run([sys.executable, "-m", "hwagent.cli", *args], check=False)
    if done.returncode != 0:
        fail(f"demo step failed (exit {done.returncode}): hwagent {' '.join(args)}", done.returncode)


TASK = "mfm-accel/requant_4lane"
TRANSCRIPT = "requant_unit_demo.transcript.jsonl"


def demo(out: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path("runs/demo"),
         preset: Annotated[str, typer.Option(help="Workload preset to profile (hwagent profile --list).")]
         = "vit-tiny",
         block_ppa: Annotated[bool, typer.Option("--block-ppa/--no-block-ppa", help=(
             "Synthesize the hybrid and the all-expert qblock_top too (the top's PPA ratios; several minutes "
             "more, cached afterwards)."))] = False) -> None:
    """The main job end to end on bundled examples: workload -> specs -> agent (scripted LLM) -> verify."""
    examples = Path(str(resources.files("spec_templates") / "examples"))
    out.mkdir(parents=True, exist_ok=True)
    profile, compressed = out / "profile.json", out / "compressed.json"
    _step(f"1a. profile {preset}", "profile", preset, "--out", str(profile))
    _step("1b. compress: 6-bit mixed precision, prune 1 head and 25% of MLP channels", "compress", str(profile),
          "--bits-budget", "6", "--prune-heads", "1", "--prune-mlp", "0.25", "--out", str(compressed))
    _step("1c. derive accelerator unit specs for a 256-PE / 512 KiB / 200 MHz budget", "spec", str(compressed),
          "--budget", str(examples / "budget.yaml"), "--out", str(out / "specs"))
    console.rule("[bold]2. agent: the 4-lane requantiser of the expert accelerator, from its spec")
    console.print("[yellow]The LLM here is a SCRIPTED transcript (recorded answers, not a live model); "
                  "lint, simulation and PPA are real. Use --llm openai/... or ollama/... for a real model.[/]")
    runs = out / "runs"
    _step("2. agent run (scripted LLM)", "run", TASK, "--llm", f"replay/{examples / TRANSCRIPT}", "--out", str(runs))
    console.rule("[bold]3. verify: lint, simulate and PPA a 4x4 int8 MAC array")
    ok = demo_verify()
    run_dir = max(runs.glob("*/run.json")).parent  # the run step 2 just made (ids start with the time)
    _step("4. compare with the expert requantiser; the hybrid tiny block", "compare", str(run_dir), "--block",
          "tiny", "--specs", str(out / "specs"), "--out", str(out / "compare"),
          "--block-ppa" if block_ppa else "--no-block-ppa")
    console.rule("[bold green]demo finished" if ok else "[bold red]demo: the MAC array failed")
    console.print(f"files: {out}/ (profile, compressed model, unit specs, agent run, compare report "
                  f"{out / 'compare' / 'compare.html'})", highlight=False)
    raise typer.Exit(EXIT_OK if ok else EXIT_DESIGN_FAILED)
