"""`hwagent demo`: the main job end to end, offline and with no API key.

1. workload -> specs: profile ViT-Tiny, compress it (mixed precision + pruning), derive accelerator unit specs;
2. agent: design the int8 requantiser from its spec with the LLM loop, driven by a SCRIPTED transcript (a
   recorded conversation, not a live model), checked by the real lint / simulation / PPA tools;
3. verify: lint, simulate and PPA a 4x4 int8 MAC array with the real tools.
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


def demo(out: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path("runs/demo"),
         preset: Annotated[str, typer.Option(help="Workload preset to profile (hwagent profile --list).")]
         = "vit-tiny") -> None:
    """The main job end to end on bundled examples: workload -> specs -> agent (scripted LLM) -> verify."""
    examples = Path(str(resources.files("spec_templates") / "examples"))
    out.mkdir(parents=True, exist_ok=True)
    profile, compressed = out / "profile.json", out / "compressed.json"
    _step(f"1a. profile {preset}", "profile", preset, "--out", str(profile))
    _step("1b. compress: 6-bit mixed precision, prune 1 head and 25% of MLP channels", "compress", str(profile),
          "--bits-budget", "6", "--prune-heads", "1", "--prune-mlp", "0.25", "--out", str(compressed))
    _step("1c. derive accelerator unit specs for a 256-PE / 512 KiB / 200 MHz budget", "spec", str(compressed),
          "--budget", str(examples / "budget.yaml"), "--out", str(out / "specs"))
    console.rule("[bold]2. agent: int8 requantiser from its spec")
    console.print("[yellow]The LLM here is a SCRIPTED transcript (recorded answers, not a live model); "
                  "lint, simulation and PPA are real. Use --llm openai/... or ollama/... for a real model.[/]")
    _step("2. agent run (scripted LLM)", "run", str(examples / "requant.yaml"), "--llm",
          f"replay/{examples / 'requant_demo.transcript.jsonl'}", "--out", str(out / "runs"))
    console.rule("[bold]3. verify: lint, simulate and PPA a 4x4 int8 MAC array")
    ok = demo_verify()
    console.rule("[bold green]demo finished" if ok else "[bold red]demo: the MAC array failed")
    console.print(f"files: {out}/ (profile, compressed model, unit specs, agent run)")
    raise typer.Exit(EXIT_OK if ok else EXIT_DESIGN_FAILED)
