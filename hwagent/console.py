"""Shared CLI plumbing: the rich console, JSON output, exit codes and one-line errors."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

EXIT_OK, EXIT_DESIGN_FAILED, EXIT_USAGE = 0, 1, 2

console = Console()
err_console = Console(stderr=True)


def emit_json(data: Any) -> None:
    """Print machine-readable results on stdout (nothing else goes to stdout in --json mode)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One clear error line on stderr, then exit (2 = usage or environment error)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
