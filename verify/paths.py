"""Where hwagent keeps what it computes and the benchmark data it reads (one place for every part).

    cache_dir("llm")    LLM responses        cache_dir("ppa")       synthesis results
    cache_dir("baseline")  baseline measurements   data_root()     benchmark suites

The cache root is `$HWAGENT_CACHE_DIR`, else `$XDG_CACHE_HOME/hwagent`, else `~/.cache/hwagent`. Benchmark data is
read from an explicit folder, else `$HWAGENT_DATA_DIR`, else `<cache root>/benchmarks` (where `hwagent eval fetch`
clones to).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("HWAGENT_CACHE_DIR"):
        return Path(os.environ["HWAGENT_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "hwagent"


def cache_dir(kind: str) -> Path:
    """The cache folder of one kind of result (llm, ppa, baseline, ...); not created here."""
    return cache_root() / kind


def fetched_data_dir() -> Path:
    """Where `hwagent eval fetch` puts benchmark repositories."""
    return cache_dir("benchmarks")


def data_root(explicit: str | Path | None = None) -> Path:
    """The folder holding the benchmark families (verilog-eval-v2/, rtllm-v2/, ...)."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("HWAGENT_DATA_DIR"):
        return Path(os.environ["HWAGENT_DATA_DIR"]).expanduser()
    return fetched_data_dir()
