"""Where benchmark data lives: `--data DIR`, else `HWAGENT_DATA_DIR`, else ~/.cache/hwagent/benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR = Path.home() / ".cache" / "hwagent" / "benchmarks"


class DataMissing(RuntimeError):
    """The benchmark data of a suite is not where we looked; the message says how to get it."""


def data_root(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("HWAGENT_DATA_DIR"):
        return Path(os.environ["HWAGENT_DATA_DIR"]).expanduser()
    return CACHE_DIR


def suite_dir(folder: str, suite_id: str, explicit: str | Path | None = None) -> Path:
    """The folder of one suite family (e.g. `verilog-eval-v2`), or DataMissing with how to get it."""
    root = data_root(explicit)
    path = root / folder
    if not path.is_dir():
        raise DataMissing(f"no benchmark data for {suite_id} at {path}: run `hwagent eval fetch {suite_id}`, "
                          f"or point --data / HWAGENT_DATA_DIR at a folder holding {folder}/")
    return path
