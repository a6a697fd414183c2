"""Where benchmark data lives: `--data DIR`, else `HWAGENT_DATA_DIR`, else the fetch cache (verify.paths)."""

from __future__ import annotations

from pathlib import Path

from verify.paths import data_root


class DataMissing(RuntimeError):
    """The benchmark data of a suite is not where we looked; the message says how to get it."""


def suite_dir(folder: str, suite_id: str, explicit: str | Path | None = None) -> Path:
    """The folder of one suite family (e.g. `verilog-eval-v2`), or DataMissing with how to get it."""
    path = data_root(explicit) / folder
    if not path.is_dir():
        raise DataMissing(f"no benchmark data for {suite_id} at {path}: run `hwagent eval fetch {suite_id}`, "
                          f"or point --data / HWAGENT_DATA_DIR at a folder holding {folder}/")
    return path
