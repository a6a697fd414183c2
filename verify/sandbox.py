"""Run a tool on untrusted input: own process group, wall-clock kill, rlimits, capped output."""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits for one child process group."""

    wall_s: float = 60.0
    cpu_s: int = 120
    memory_bytes: int = 4096 * MiB
    file_bytes: int = 256 * MiB
    processes: int = 4096
    output_bytes: int = 2 * MiB


@dataclass
class Completed:
    cmd: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    timed_out: bool = False
    output_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


_PRLIMIT = shutil.which("prlimit")


def _limited(cmd: list[str], limits: Limits) -> tuple[list[str], object]:
    """The command wrapped so its limits are set before it starts: with util-linux `prlimit` when present
    (keeps the fast vfork spawn path), else with a pre-exec hook."""
    values = {"cpu": limits.cpu_s, "as": limits.memory_bytes, "fsize": limits.file_bytes,
              "nproc": limits.processes, "core": 0}
    if _PRLIMIT:
        return [_PRLIMIT, *(f"--{name}={value}" for name, value in values.items()), "--", *cmd], None

    def preexec() -> None:
        for name, value in values.items():
            what = getattr(resource, f"RLIMIT_{name.upper()}")
            hard = resource.getrlimit(what)[1]
            try:
                resource.setrlimit(what, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
            except (ValueError, OSError):
                pass

    return cmd, preexec


def _read_capped(handle, cap: int) -> tuple[str, bool]:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    if size <= cap:
        return handle.read().decode(errors="replace"), False
    head = handle.read(cap // 2).decode(errors="replace")
    handle.seek(size - cap // 2)
    tail = handle.read().decode(errors="replace")
    return f"{head}\n... [{size - cap} bytes of output cut] ...\n{tail}", True


def run(cmd: list[str], cwd: str | Path, limits: Limits = Limits(), env: dict[str, str] | None = None,
        stdin: str | None = None) -> Completed:
    """Run `cmd` in `cwd` in a new process group; on timeout the whole group is killed.

    Output goes to unlinked temporary files (not pipes), so a child that floods stdout cannot block or
    exhaust memory; only the head and tail up to `limits.output_bytes` are kept.
    """
    full_env = os.environ.copy() | (env or {})
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        wrapped, preexec = _limited(cmd, limits)
        try:
            proc = subprocess.Popen(wrapped, cwd=cwd, env=full_env, stdout=out, stderr=err,
                                    stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=preexec)  # noqa: PLW1509 - only without prlimit
        except FileNotFoundError as exc:
            return Completed(cmd, 127, "", f"{exc.filename}: command not found", 0.0)
        try:
            if stdin is not None:
                try:
                    proc.stdin.write(stdin.encode())
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            timed_out = not _wait(proc, limits.wall_s)
        finally:
            _kill_group(proc.pid)
            proc.wait()
        stdout, cut_out = _read_capped(out, limits.output_bytes)
        stderr, cut_err = _read_capped(err, limits.output_bytes)
    return Completed(cmd, proc.returncode, stdout, stderr, time.monotonic() - start, timed_out,
                     cut_out or cut_err)


def _wait(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for `proc` to exit within `timeout` seconds; False on timeout.

    A pidfd lets select() sleep until the exit (no thread to start, no polling loop, as Popen.wait has)."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(pidfd)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
