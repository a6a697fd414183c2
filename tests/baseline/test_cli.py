"""`hwagent baseline report`: JSON contents on the tiny configuration, a clear error for bad input, parallel
syntheses that say when they come from the cache (SIGTERM: tests/security/test_leftovers.py)."""

import json
import subprocess
import sys

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
