"""Nothing outlives the command: `kill -9` of `eval score` takes its pool workers and their simulations along,
SIGTERM of `baseline report` its yosys and temporary folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.security.conftest import ROOT


def _children() -> dict[int, int]:
    parents = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return parents


def descendants(pid: int) -> dict[int, str]:
    """pid -> command name of every process below `pid`."""
    parents, found, frontier = _children(), {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                try:
                    found[child] = (Path(f"/proc/{child}") / "comm").read_text().strip()
                except OSError:
                    continue
                frontier.append(child)
    return found


def alive(pids) -> list[int]:
    left = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.append(pid)
    return left


def wait_for(proc: subprocess.Popen, names: set[str], timeout_s: float = 300) -> dict[int, str]:
    """The descendants of `proc` once one of them is called one of `names`."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and proc.poll() is None:
        below = descendants(proc.pid)
        if names & set(below.values()):
            return below
        time.sleep(0.1)
    pytest.fail(f"no {names} process appeared (exit {proc.poll()})")


def gone_within(pids, seconds: float) -> list[int]:
    end = time.monotonic() + seconds
    while time.monotonic() < end and alive(pids):
        time.sleep(0.1)
    return alive(pids)


@pytest.mark.needs_data
def test_kill_9_of_eval_score_leaves_no_workers_or_simulations(tmp_path, data_dir):
    hang = ("module TopModule(input a, input b, input c, output out);\n  reg x = 0;\n"
            "  initial forever begin x = ~x; #0; end\n  assign out = x;\nendmodule\n")  # vvp spins at time 0
    samples = tmp_path / "hang.jsonl"
    samples.write_text("".join(json.dumps({"task_id": "Prob050_kmap1", "completion": hang + f"// {n}\n"}) + "\n"
                               for n in range(4)))
    proc = subprocess.Popen([sys.executable, "-m", "hwagent.cli", "eval", "score", "--suite",
                             "verilog-eval-v2:spec-to-rtl", "--samples", str(samples), "--out", str(tmp_path / "o"),
                             "--jobs", "2", "--timeout", "120"], cwd=ROOT,
                            env=os.environ | {"HWAGENT_DATA_DIR": str(data_dir)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    below = wait_for(proc, {"vvp"})
    proc.kill()
    proc.wait()
    left = gone_within(below, 10)
    assert not left, {pid: below[pid] for pid in left}


def test_sigterm_of_baseline_report_leaves_no_yosys_or_temp_folder(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "hwagent.cli", "baseline", "report", "--no-sim", "--jobs", "2"],
                            cwd=ROOT, env=os.environ | {"TMPDIR": str(scratch), "HWAGENT_CACHE_DIR": str(tmp_path)},
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    below = wait_for(proc, {"yosys", "yosys-abc", "sta"})
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    left = gone_within(below, 10)
    assert not left, {pid: below[pid] for pid in left}
    assert not list(scratch.iterdir()), list(scratch.iterdir())
