"""`hwagent eval fetch SUITE`: clone the upstream benchmark repository at a pinned commit into the cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from evals.suites import SUITES, Upstream
from verify.paths import data_root, fetched_data_dir


class FetchError(RuntimeError):
    """Cloning failed (offline, unknown commit, ...); the message says what to do instead."""


def upstream_for(suite_id: str) -> Upstream:
    """The upstream of a suite id or of its data folder name (verilog-eval-v2, verilog-eval-v1, rtllm-v2)."""
    upstreams = {e.upstream.folder: e.upstream for e in SUITES.values() if e.upstream is not None}
    entry = SUITES.get(suite_id)
    if entry is not None and entry.upstream is None:
        raise KeyError(f"{suite_id} is built into hwagent: there is nothing to fetch")
    upstream = entry.upstream if entry is not None else upstreams.get(suite_id)
    if upstream is None:
        raise KeyError(f"unknown suite {suite_id!r}: choose one of {', '.join([*upstreams, *SUITES])}")
    return upstream


def _git(args: list[str], cwd: Path | None = None, timeout: float = 600) -> None:
    env = os.environ | {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        done = subprocess.run(["git", *args], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise FetchError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"git {args[0]} timed out after {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise FetchError(f"git {args[0]} failed: {last}")


def fetch(suite_id: str, root: Path | None = None, url: str | None = None, commit: str | None = None,
          force: bool = False) -> Path:
    """Clone the suite's upstream at its pinned commit into root/<folder>; returns that folder. Without `root`,
    data already in the data root (HWAGENT_DATA_DIR) is used as it is, unless `force`."""
    upstream = upstream_for(suite_id)
    if root is None and not force and (data_root() / upstream.folder).is_dir():
        return data_root() / upstream.folder  # HWAGENT_DATA_DIR already holds it
    url, commit, root = url or upstream.url, commit or upstream.commit, Path(root or fetched_data_dir())
    target = root / upstream.folder
    if target.exists() and not force:
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{upstream.folder}-", dir=root))
    try:
        try:
            _git(["clone", "--quiet", "--no-checkout", url, str(staging / "repo")])
        except FetchError as exc:
            raise FetchError(f"cannot clone {url} ({exc}). Offline? Copy the benchmark data by hand into "
                             f"{target} (or any folder) and point HWAGENT_DATA_DIR / --data at its parent") from None
        _git(["checkout", "--quiet", commit], cwd=staging / "repo")
        if target.exists():
            shutil.rmtree(target)
        (staging / "repo").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
