"""Run a tool on untrusted input: own process group, wall-clock kill, rlimits, capped output, bubblewrap.

Runs that name `writable` or `readable` paths (every simulation and every tool that reads untrusted RTL) are
isolated with bubblewrap (`bwrap`) where it works: a minimal filesystem tree instead of the host's (`/usr`,
`/lib*`, the Python installation and venv, read-only; the named paths; an empty read-only `/tmp`; no `/home`, `/etc`,
`/run`, host `/tmp`, so no host files and no Unix sockets to connect to), new network and pid namespaces (no
network, no other processes to see or signal), no capabilities, killed with its parent. Without a working
bwrap they get the rlimits and the process group only, and `isolation()` says so.

The environment is passed by an allowlist (PATH, locale, simulator variables and what the caller names),
never by guessing which names look secret.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
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
_ENV_NAMES = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHASHSEED"})
_ENV_PREFIXES = ("LC_", "COCOTB_", "VERILATOR_", "IVERILOG", "GPI_", "PYGPI_", "TOPLEVEL", "SIM")
_SYSTEM_TREE = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
                "/etc/alternatives")
_STATE = {"bwrap": True}  # turned off only by unsandboxed()


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: allowlisted host variables, then `extra` (the caller's own)."""
    kept = {name: value for name, value in os.environ.items()
            if name in _ENV_NAMES or name.startswith(_ENV_PREFIXES)}
    return kept | (extra or {})


@dataclass(frozen=True)
class Isolation:
    """How runs with `writable` paths are confined on this machine."""

    bwrap: str | None  # path of a working bwrap, None: rlimits and process group only
    description: str


def _python_tree() -> list[str]:
    """The running Python's installation and venv (a cocotb child and its simulator's VPI library live there)."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots.add(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted(r for r in roots if r != "/" and not r.startswith("/usr/"))


def _system_args() -> list[str]:
    args = []
    for path in _SYSTEM_TREE:
        if os.path.islink(path) and not path.startswith("/etc/"):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def _bwrap_args(bwrap: str, writable: Sequence[str | Path], cwd: str | Path, readable: Sequence = (),
                binds: Sequence[tuple[str | Path, str]] = ()) -> list[str]:
    """bwrap arguments: the minimal tree, `readable` (read-only) and `writable` paths at their own place, and
    `binds` (source, path inside) read-only at another place."""
    ro = [a for path in [*_python_tree(), *readable] for a in ("--ro-bind", str(path), str(path))]
    ro += [a for source, inside in binds for a in ("--ro-bind", str(source), str(inside))]
    rw = [a for path in writable for a in ("--bind", str(path), str(path))]
    return [bwrap, *_system_args(), "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", *ro, *rw,
            "--remount-ro", "/tmp", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
            "--cap-drop", "ALL", "--chdir", str(cwd), "--"]


@contextlib.contextmanager
def unsandboxed():
    """Runs inside this block skip bubblewrap (rlimits and process group only): `hwagent bench verify` times
    the sandbox's cost this way; nothing else may use it."""
    _STATE["bwrap"] = False
    try:
        yield
    finally:
        _STATE["bwrap"] = True


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
    return Isolation(bwrap, "bwrap: minimal read-only system tree (no host files or sockets), run dir writable, "
                            "no network, own pid namespace, no capabilities, allowlisted environment")


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the process that started it dies (a pool worker initializer: `kill -9`
    of the parent leaves no orphan worker, and the worker's sandboxed children die with it)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the CLI's unwinding handler, inherited by a fork
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def active() -> bool:
    """Whether runs that name paths are isolated with bubblewrap right now."""
    return _STATE["bwrap"] and isolation().bwrap is not None


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
        stdin: str | None = None, writable: Sequence[str | Path] | None = None,
        readable: Sequence[str | Path] | None = None, binds: Sequence[tuple[str | Path, str]] = ()) -> Completed:
    """Run `cmd` in `cwd` in a new process group; on timeout the whole group is killed.

    With `writable` or `readable` paths, the run is isolated as `isolation()` describes: only those paths
    (writable ones read-write), `binds` (read-only, at another path inside) and the minimal system tree exist;
    /tmp is empty and read-only; HOME and TMPDIR point to `.tmp` in the first writable path. Output goes to
    unlinked temporary files (not pipes), so a child that floods stdout cannot block or exhaust memory; only the
    head and tail up to `limits.output_bytes` are kept.
    """
    full_env, shown = child_env(env), cmd
    start = time.monotonic()
    isolated = writable is not None or readable is not None
    bwrap = isolation().bwrap if isolated and _STATE["bwrap"] else None
    if bwrap:  # host-only PATH entries (pyenv shims, ~/bin) do not exist inside: the venv's bin comes first
        path = os.pathsep.join([os.path.dirname(sys.executable), full_env.get("PATH", os.defpath)])
        scratch = "/tmp"
        if writable:  # /tmp is read-only inside (a write there is reported, not silently lost)
            scratch = str(Path(writable[0]) / ".tmp")
            Path(scratch).mkdir(exist_ok=True)
        full_env |= {"HOME": scratch, "TMPDIR": scratch, "PATH": path}
        cmd = _bwrap_args(bwrap, writable or (), cwd, readable or (), binds) + cmd
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        wrapped, preexec = _limited(cmd, limits)
        try:
            proc = subprocess.Popen(wrapped, cwd=cwd, env=full_env, stdout=out, stderr=err,
                                    stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=preexec)  # noqa: PLW1509 - only without prlimit
        except FileNotFoundError as exc:
            return Completed(shown, 127, "", f"{exc.filename}: command not found", 0.0)
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
    return Completed(shown, proc.returncode, stdout, stderr, time.monotonic() - start, timed_out,
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
