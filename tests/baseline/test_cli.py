"""`hwagent baseline report`: JSON contents on the tiny configuration, a clear error for bad input, parallel
syntheses that say when they come from the cache, and SIGTERM leaving no tool or folder behind."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from accelerator_baseline import golden as G
from accelerator_baseline import report
from accelerator_baseline.ppa import targets


def _run(*args):
    return subprocess.run([sys.executable, "-m", "hwagent.cli", "baseline", "report", *args],
                          check=False, capture_output=True, text=True, timeout=900)


def test_report_json_tiny():
    ran = _run("--config", "tiny", "--json", "--no-ppa")
    assert ran.returncode == 0, ran.stderr
    rep = json.loads(ran.stdout)
    block = rep["block"]
    assert block["source"] == "simulation" and block["bit_exact"] and block["model_matches_simulation"]
    assert block["block_over_tile_ideal"] == block["block_cycles"] / block["tile_ideal_cycles"]
    names = [g["name"] for g in rep["gemms"]]
    assert names[:3] == ["q", "k", "vT"] and names[-1] == "mlp2"
    for g in rep["gemms"]:
        assert g["source"] == "simulation" and g["tile_efficiency"] == g["tile_ideal_cycles"] / g["cycles"]
        assert set(g) >= {"M", "N", "K", "cycles", "ideal_cycles", "tile_ideal_cycles", "utilization"}
    assert [f["config"] for f in rep["full_size"]] == ["vit_b16", "deit_s", "bert_base"]
    assert [row["vector_lanes"] for row in rep["vector_lanes"]] == [4, 2, 1]
    fewer = [row["vit_b16"] for row in rep["vector_lanes"]]
    assert fewer == sorted(fewer) and fewer[0] < 1.05   # fewer lanes: longer vector tasks, still overlapped
    assert rep["sram"]["vit_b16"]["kib"] > rep["sram"]["tiny"]["kib"] > 0
    assert all(f["source"] == "model" for f in rep["full_size"])
    assert rep["technology"].startswith("OSU018")


def test_report_unknown_config():
    ran = _run("--config", "nope", "--no-ppa")
    assert ran.returncode == 2
    assert "unknown config" in ran.stderr and "Traceback" not in ran.stderr


def _processes_working_in(folder: Path) -> list[int]:
    """Processes whose working directory is inside `folder` (the syntheses run in temporary folders there)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cwd = Path(os.readlink(proc / "cwd"))
        except (OSError, ValueError):
            continue
        if proc.name.isdigit() and folder in cwd.parents:
            pids.append(int(proc.name))
    return pids


def test_sigterm_kills_running_syntheses_and_removes_their_folders(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = os.environ | {"HWAGENT_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-m", "hwagent.cli", "baseline", "report", "--config", "tiny",
                             "--no-sim", "--jobs", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 300
    while not _processes_working_in(scratch) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_working_in(scratch), "no synthesis started"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while _processes_working_in(scratch) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_working_in(scratch), "a tool outlived the report"
    assert not list(scratch.glob("hwagent-ppa-*")), "a synthesis folder was left behind"


def test_syntheses_run_in_parallel_and_say_when_they_come_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HWAGENT_CACHE_DIR", str(tmp_path))
    cfg = G.CONFIGS["tiny"]
    few = [t for t in targets(cfg) if t.name in ("pe", f"requant_{cfg.array_rows}")]
    monkeypatch.setattr(report, "targets", lambda _cfg: few)  # two real syntheses instead of the whole list
    cold_messages, warm_messages = [], []
    cold = report.ppa_section(cfg, progress=cold_messages.append, jobs=2)
    warm = report.ppa_section(cfg, progress=warm_messages.append, jobs=2)
    assert list(cold) == list(warm) == [t.name for t in few]
    assert [report.synthesis_source(e).endswith(" s") for e in cold.values()] == [True, True]
    assert [report.synthesis_source(e) for e in warm.values()] == ["cached", "cached"]
    assert all(cold[name]["area_um2"] == warm[name]["area_um2"] > 0 for name in cold)
    assert cold_messages[0] == "synthesizing 2 designs, 2 at a time"
    assert warm_messages[-1].startswith("2 of 2 syntheses done") and warm_messages[-1].endswith("(cached)")
