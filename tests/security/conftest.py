"""Shared helpers of the security suite: the hostile-user probes of issue 11, each a reproduction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWD_LINE = "root:x:0:0"  # the first line of /etc/passwd on every Debian/Ubuntu host


def hwagent(*args, env=None, cwd=ROOT, **kw) -> subprocess.CompletedProcess:
    environment = os.environ | {"HWAGENT_PLAIN": "1", "COLUMNS": "200"} | (env or {})
    return subprocess.run([sys.executable, "-m", "hwagent.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=600, check=False, **kw)


def descendants_of_path(marker: str) -> list[str]:
    """Processes whose command line or working directory mentions `marker` (a test's own tmp path)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if marker in cmdline or marker in cwd:
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


@pytest.fixture(scope="session")
def v2(data_dir):
    from evals.suites import get_suite

    return get_suite("verilog-eval-v2:spec-to-rtl", data_dir)


sys.path.insert(0, str(Path(__file__).parents[1] / "agent"))  # the loopback LLM servers and scripted answers
