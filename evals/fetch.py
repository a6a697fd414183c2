"""`hwagent eval fetch SUITE`: clone the upstream benchmark repository at a pinned commit into the cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evals.data import CACHE_DIR


@dataclass(frozen=True)
class Upstream:
    folder: str
    url: str
    commit: str


UPSTREAMS = {
    "verilog-eval-v2": Upstream("verilog-eval-v2", "https://github.com/NVlabs/verilog-eval.git",
                                "c498220d0a52248f8e3fdffe279075215bde2da6"),
    "verilog-eval-v1": Upstream("verilog-eval-v1", "https://github.com/NVlabs/verilog-eval.git",
                                "4fa0ac4ed70ff1685114c25cd2e4c17cbba6a0c4"),  # branch release/1.0.0
    "rtllm-v2": Upstream("rtllm-v2", "https://github.com/hkust-zhiyao/RTLLM.git",
                         "41b26896e33b536940116a975626455eed3de65e"),
}


class FetchError(RuntimeError):
    """Cloning failed (offline, unknown commit, ...); the message says what to do instead."""


def upstream_for(suite_id: str) -> Upstream:
    family = suite_id.split(":")[0]
    if family not in UPSTREAMS:
        raise KeyError(f"unknown suite {suite_id!r}: choose one of {', '.join(UPSTREAMS)}")
    return UPSTREAMS[family]


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


def fetch(suite_id: str, root: Path = CACHE_DIR, url: str | None = None, commit: str | None = None,
          force: bool = False) -> Path:
    """Clone the suite's upstream at its pinned commit into root/<folder>; returns that folder."""
    upstream = upstream_for(suite_id)
    url, commit = url or upstream.url, commit or upstream.commit
    target = Path(root) / upstream.folder
    if target.exists() and not force:
        return target
    Path(root).mkdir(parents=True, exist_ok=True)
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
