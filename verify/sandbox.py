"""Run a tool on untrusted input: own process group, wall-clock kill, rlimits, capped output.

Runs that name `writable` paths are also isolated with bubblewrap (`bwrap`) where it works: new network
and pid namespaces (no network, no other processes to see or signal), the whole filesystem read-only except
the `writable` paths, a minimal /dev, an empty /run (no daemon sockets), no capabilities. Without a working bwrap they get the rlimits
and the process group only, and `isolation()` says so. Variables that look like secrets (API keys, tokens)
are never passed to a child.
"""

from __future__ import annotations

import functools
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
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
_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL", re.IGNORECASE)


@dataclass(frozen=True)
class Isolation:
    """How runs with `writable` paths are confined on this machine."""

    bwrap: str | None  # path of a working bwrap, None: rlimits and process group only
    description: str


def _bwrap_args(bwrap: str, writable: Sequence[str | Path], cwd: str | Path) -> list[str]:
    binds = [arg for path in writable for arg in ("--bind", str(path), str(path))]
    return [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/run", *binds,
            "--unshare-net", "--unshare-pid", "--die-with-parent", "--cap-drop", "ALL", "--chdir", str(cwd), "--"]


@functools.cache
def isolation() -> Isolation:
    """Probe bwrap once: it may be missing, or present but refused namespaces (some containers)."""
    bwrap = shutil.which("bwrap")
    weaker = "weaker isolation: rlimits and a process group only, network and filesystem open"
    if bwrap is None:
        return Isolation(None, f"{weaker} (bwrap not found: apt-get install bubblewrap)")
    try:
        probe = subprocess.run([*_bwrap_args(bwrap, [], "/"), "true"], capture_output=True, text=True, timeout=30,
                               check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation(None, f"{weaker} (bwrap does not start: {exc})")
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[0]
        return Isolation(None, f"{weaker} (bwrap does not work here: {reason})")
    return Isolation(bwrap, "bwrap: no network, filesystem read-only except the run dir, own pid namespace, "
                            "no capabilities")


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


_RUNNING_GROUPS: set[int] = set()  # process groups of the runs in progress (any thread)


def run(cmd: list[str], cwd: str | Path, limits: Limits = Limits(), env: dict[str, str] | None = None,
        stdin: str | None = None, writable: Sequence[str | Path] | None = None) -> Completed:
    """Run `cmd` in `cwd` in a new process group; on timeout the whole group is killed.

    With `writable` paths (the run dir), the run is isolated as `isolation()` describes, with TMPDIR in the
    first of them. Output goes to unlinked
    temporary files (not pipes), so a child that floods stdout cannot block or exhaust memory; only the
    head and tail up to `limits.output_bytes` are kept.
    """
    full_env = {name: value for name, value in os.environ.items() if not _SECRET.search(name)} | (env or {})
    start = time.monotonic()
    bwrap = isolation().bwrap if writable else None
    if bwrap:  # /tmp is read-only inside: temporary files go to the first writable path
        scratch = Path(writable[0]) / ".tmp"
        scratch.mkdir(exist_ok=True)
        full_env["TMPDIR"] = str(scratch)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        wrapped, preexec = _limited(_bwrap_args(bwrap, writable, cwd) + cmd if bwrap else cmd, limits)
        try:
            proc = subprocess.Popen(wrapped, cwd=cwd, env=full_env, stdout=out, stderr=err,
                                    stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=preexec)  # noqa: PLW1509 - only without prlimit
        except FileNotFoundError as exc:
            return Completed(cmd, 127, "", f"{exc.filename}: command not found", 0.0)
        _RUNNING_GROUPS.add(proc.pid)
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
            _RUNNING_GROUPS.discard(proc.pid)
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


def kill_running() -> None:
    """Kill every tool process group `run` still waits on (what a SIGTERM / Ctrl-C handler calls: the tools run in
    sessions of their own, so a terminal's signal does not reach them)."""
    for pid in list(_RUNNING_GROUPS):
        _kill_group(pid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
