"""Files of a run directory that more than one part writes: JSON records and summary.json (one writer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SUMMARY = "summary.json"


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


def write_summary(run_dir: Path, summary: dict) -> dict:
    write_json(Path(run_dir) / SUMMARY, summary)
    return summary


def read_summary(run_dir: Path) -> dict:
    path = Path(run_dir) / SUMMARY
    return json.loads(path.read_text()) if path.is_file() else {}
