"""Shared CLI plumbing: the rich console, JSON output, exit codes and one-line errors."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

EXIT_OK, EXIT_DESIGN_FAILED, EXIT_USAGE = 0, 1, 2
WIDE_ENOUGH = 120  # a table that must widen anyway gets up to this many columns for its prose
PROSE_CELL = 30  # a column with a cell longer than this that has spaces wraps; every other column stays whole


class WholeNumbersConsole(Console):
    """A console whose tables never cut a number or a name: short cells (numbers, ids, units) stay on one line,
    prose columns wrap, and a table that needs more than the console's width (80 when piped) is printed as wide
    as it needs instead of being cut."""

    def print(self, *objects, **kwargs) -> None:  # noqa: A003 -- rich's own method name
        tables = [o for o in objects if isinstance(o, Table)]
        for table in tables:
            for column in table.columns:
                cells = [_plain(c) for c in [column.header, *column.cells]]
                column.no_wrap = not any(len(c) > PROSE_CELL and " " in c for c in cells)
                if column.no_wrap:
                    column.min_width = max(map(len, cells), default=0)
                column.overflow = "fold"
        need = 0
        if tables and "width" not in kwargs:
            unbounded = self.options.update(max_width=10_000)
            sizes = [Measurement.get(self, unbounded, t) for t in tables]
            need = max(s.minimum for s in sizes)
            need = max(need, min(max(s.maximum for s in sizes), WIDE_ENOUGH)) if need > self.width else need
        if need <= self.width:
            super().print(*objects, **kwargs)
            return
        width, self.width = self.width, need  # rich clamps print(width=...) to the console's own width
        try:
            super().print(*objects, **kwargs | {"crop": False})
        finally:
            self.width = width


def _plain(cell) -> str:
    """The visible text of a cell (markup removed)."""
    from rich.text import Text

    return cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain if isinstance(cell, str) else ""


console = WholeNumbersConsole()
err_console = WholeNumbersConsole(stderr=True)


def emit_json(data: Any) -> None:
    """Print machine-readable results on stdout (nothing else goes to stdout in --json mode)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One clear error line on stderr, then exit (2 = usage or environment error)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
