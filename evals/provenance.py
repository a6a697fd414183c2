"""Where a result comes from: hwagent and tool versions, the suite's data and upstream commit, the date."""

from __future__ import annotations

import datetime
import platform
from importlib import metadata
from pathlib import Path

from evals.suites import SUITES, Suite
from verify import tools


def provenance(suite: Suite, models: list[str] | None = None) -> dict:
    entry = SUITES.get(suite.id)
    source = Path(suite.root) / "SOURCE"
    record = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "hwagent": _version("hwagent"), "python": platform.python_version(),
        "tools": {tool.name: tool.version for tool in (tools.iverilog(), tools.yosys(), tools.verilator_lint())
                  if tool.found},
        "suite": {"id": suite.id, "data": str(suite.root),
                  "pinned_commit": entry.upstream.commit if entry and entry.upstream else None,
                  "data_source": source.read_text().strip() if source.is_file() else None},
    }
    if models:
        record["models"] = models
    return record


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
