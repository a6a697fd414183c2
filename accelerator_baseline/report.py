"""The baseline's numbers: simulated cycles per GEMM and per block, the analytic model on full-size blocks,
PPA per unit and for the top (verify.ppa, OSU018 0.18 um), and derived throughput and efficiency.

Measurements are cached (by configuration, seed and RTL content) under $HWAGENT_CACHE_DIR/baseline, so the
report re-simulates only when the RTL changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from accelerator_baseline import golden as G
from accelerator_baseline.cycle_model import estimate_block, gemm_cycles
from accelerator_baseline.hwmap import buffers
from accelerator_baseline.ppa import (
    ACTIVITY,
    CLOCK_MHZ,
    PPATarget,
    synthesize_target,
    targets,
    vector_lane_options,
)
from accelerator_baseline.sim import RTL_FILES, rtl_dir, run_block
from verify import tools
from verify.paths import cache_dir
from verify.sandbox import kill_running

SIMULATED = ("tiny", "tiny_vl2", "tiny16", "vit_tiny")
FULL_SIZE = ("vit_b16", "deit_s", "bert_base")
ASSUMPTIONS = [
    f"power at {CLOCK_MHZ:g} MHz with switching activity {ACTIVITY} on every net (verify.ppa)",
    ("buffers are SRAM macros priced by a stated model (verify.ppa.SramModel; OSU018 has no memory compiler); "
     "standard-cell (logic) and SRAM figures are reported apart and together; full-size blocks use the top's "
     "logic and their own buffer sizes"),
    ("derived throughput counts 2 ops per MAC of the block's GEMMs; cycles from simulation where the block "
     "fits, otherwise from the analytic model (checked cycle-exact against simulation)"),
    "full-size token counts that are not multiples of R are padded (tile ideal already includes padding)",
    "post-LN encoder block (BERT / I-BERT order); int8 GEMM operands, int32 accumulation",
]


def assumptions() -> list[str]:
    """The report's assumptions, led by the tools its PPA figures were measured with (they vary by version)."""
    yosys, sta = tools.yosys(), tools.opensta()
    return [f"technology: OSU018 0.18 um standard cells (qflow), Yosys {yosys.version or 'n/a'} + ABC, "
            f"OpenSTA {sta.version or 'n/a'}; compare only relatively", *ASSUMPTIONS]


def _cache_dir() -> Path:
    return cache_dir("baseline")


def rtl_digest() -> str:
    digest = hashlib.sha256()
    for name in RTL_FILES:
        digest.update((rtl_dir() / name).read_bytes())
    for name in ("golden.py", "hwmap.py", "tb/tb_qblock.py"):
        digest.update((rtl_dir().parent / name).read_bytes())
    return digest.hexdigest()[:16]


def measured_block(config: str, seed: int = 0, simulate: bool = True) -> dict | None:
    """Simulation results for one configuration (cached); None if not cached and `simulate` is False."""
    path = _cache_dir() / f"{config}-s{seed}-{rtl_digest()}.json"
    if path.is_file():
        return json.loads(path.read_text())
    if not simulate:
        return None
    data = run_block(config, seed)
    if data.get("passed"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1))
    return data


def gemm_rows(cfg: G.BlockConfig, measured: dict | None) -> list[dict]:
    """Per GEMM: shape, cycles (feed window: first to last operand beat, waits for operands included, from
    simulation where measured), array occupancy, stall cycles and the ideals."""
    est = estimate_block(cfg)
    sim = {}
    for g in (measured or {}).get("gemms", []):
        name = g["step"] + (str(g["head"]) if g["step"] in ("qk", "av") else "")
        sim[name] = g["last_feed"] - g["first_feed"] + 1
    rows = []
    for g in est.gemms:
        cycles = sim.get(g["name"])
        gc = gemm_cycles(g["M"], g["N"], g["K"], cfg.array_rows, cfg.array_cols)
        c = cycles if cycles is not None else g["cycles"]
        rows.append({"name": g["name"], "M": g["M"], "N": g["N"], "K": g["K"], "macs": g["macs"],
                     "ideal_cycles": g["ideal_cycles"], "tile_ideal_cycles": g["tile_ideal_cycles"],
                     "model_cycles": g["cycles"], "occupancy": gc.occupancy, "latency_cycles": gc.latency,
                     "cycles": c, "stall_cycles": c - gc.occupancy,
                     "source": "simulation" if cycles is not None else "model",
                     "utilization": g["ideal_cycles"] / c, "tile_efficiency": g["tile_ideal_cycles"] / c})
    return rows


def block_summary(cfg: G.BlockConfig, measured: dict | None) -> dict:
    est = estimate_block(cfg)
    out = {"config": cfg.name, "tokens": cfg.tokens, "d_model": cfg.d_model, "heads": cfg.heads, "d_ff": cfg.d_ff,
           "array": f"{cfg.array_rows}x{cfg.array_cols}", "macs": est.macs, "ideal_cycles": est.ideal_cycles,
           "tile_ideal_cycles": est.tile_ideal_cycles, "model_block_cycles": est.block_cycles}
    if measured and measured.get("passed"):
        out.update(block_cycles=measured["block_cycles"], source="simulation", bit_exact=measured["bit_exact"],
                   seed=measured["seed"], outputs_checked=measured["outputs"],
                   model_matches_simulation=measured["block_cycles"] == est.block_cycles)
    else:
        out.update(block_cycles=est.block_cycles, source="model")
        if measured:
            out["simulation_failed"] = measured.get("reason")
    out["block_over_tile_ideal"] = out["block_cycles"] / est.tile_ideal_cycles
    out["utilization"] = est.ideal_cycles / out["block_cycles"]
    return out


def sram(cfg: G.BlockConfig, clock_mhz: float = CLOCK_MHZ) -> dict:
    """The configuration's buffers priced by verify.ppa.SramModel: per buffer and in total (area, power)."""
    from verify.ppa import SramModel

    model = SramModel()
    rows = [{"name": b.name, "width": b.width, "words": b.words, "read_ports": b.read_ports, "banks": b.instances,
             "kib": b.bits / 8 / 1024, "area_um2": b.instances * model.area_um2(b.width * b.words, b.read_ports),
             "power_mw": b.instances * model.power_mw(b.width, b.read_ports, 1, clock_mhz)}
            for b in buffers(cfg)]
    return {"buffers": rows, "area_um2": sum(r["area_um2"] for r in rows),
            "power_mw": sum(r["power_mw"] for r in rows), "kib": sum(r["kib"] for r in rows),
            "model": model.describe()}


def ppa_section(cfg: G.BlockConfig, progress: Callable[[str], None] | None = None,
                top_timeout_s: float = 3600.0, jobs: int = 1) -> dict:
    """PPA per unit and for the top, `jobs` syntheses at a time (each is one Yosys + OpenSTA process). Entries carry
    `cached` (the figures came from verify.ppa's cache) and `synthesis_s`, or an `error` when synthesis is
    unavailable. On any interruption the running tools are killed and their temporary folders removed."""
    todo = targets(cfg)
    out: dict[str, dict] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="synthesis")
    try:
        longest_first = sorted(todo, key=lambda t: t.top != "qblock_top")  # the units fill the other workers
        futures = {pool.submit(_price_target, t, top_timeout_s): t for t in longest_first}
        if progress:
            progress(f"synthesizing {len(todo)} designs, {max(1, jobs)} at a time")
        for future in as_completed(futures):
            target = futures[future]
            out[target.name] = future.result()
            if progress:
                progress(f"{len(out)} of {len(todo)} syntheses done; last: {target.name} "
                         f"({synthesis_source(out[target.name])})")
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        kill_running()
        raise
    pool.shutdown()
    return {t.name: out[t.name] for t in todo}


def _price_target(t: PPATarget, top_timeout_s: float) -> dict:
    try:
        r = synthesize_target(t, timeout_s=top_timeout_s if t.top == "qblock_top" else 3600.0)
    except (ImportError, OSError, RuntimeError, ValueError) as exc:  # tools missing/failing: report it
        return {"error": f"{type(exc).__name__}: {exc}", "note": t.note}
    return {"area_um2": r.area_um2, "logic_area_um2": (r.area_um2 or 0.0) - r.macro_area_um2,
            "sram_area_um2": r.macro_area_um2, "cells": r.cells, "flops": r.flops,
            "fmax_mhz": r.fmax_mhz, "critical_path_ns": r.critical_path_ns, "power_mw": r.power_mw,
            "sram_power_mw": r.power_breakdown_mw.get("macros", 0.0),
            "macros": [m.model_dump() for m in r.macros], "missing": r.missing, "note": t.note,
            "parameters": dict(t.parameters), "cached": r.cached, "synthesis_s": r.wall_s}


def synthesis_source(entry: dict) -> str:
    """Where a PPA entry's figures come from: `cached`, the seconds the synthesis took, `failed` or `composed`."""
    if "error" in entry:
        return "failed"
    if "cached" not in entry:
        return "composed"
    return "cached" if entry["cached"] else f"{entry['synthesis_s']:.0f} s"


def composed_top(ppa: dict, cfg: G.BlockConfig) -> dict | None:
    """Top estimate from the unit syntheses when the top itself was not synthesized: array + requant + i-GELU
    + vector unit (control logic excluded) and the buffers priced by the SRAM model."""
    r = cfg.array_rows
    units = [ppa.get(f"systolic_array_{r}x{r}"), ppa.get(f"requant_{r}"), ppa.get(f"igelu_{r}"),
             ppa.get(f"vector_unit_{cfg.vlanes}")]
    if any(u is None or u.get("area_um2") is None for u in units):
        return None
    memories = sram(cfg)
    logic = sum(u["area_um2"] for u in units)
    fmaxes = [u["fmax_mhz"] for u in units if u.get("fmax_mhz")]
    return {"area_um2": logic + memories["area_um2"], "logic_area_um2": logic, "sram_area_um2": memories["area_um2"],
            "power_mw": sum(u.get("power_mw") or 0.0 for u in units) + memories["power_mw"],
            "sram_power_mw": memories["power_mw"], "fmax_mhz": min(fmaxes) if fmaxes else None,
            "note": "composed from unit syntheses (array + requant + i-GELU + vector unit) and the SRAM model; "
                    "control excluded"}


def derived(block: dict, top: dict | None, memories: dict | None = None) -> dict:
    """Latency, GOPS, GOPS/mm2 (logic alone and with the SRAM), GOPS/W and energy per block at the synthesis
    clock and at fmax. `memories` (sram(cfg)) replaces the top's SRAM when the block has other buffer sizes."""
    if not top or top.get("area_um2") is None:
        return {"error": "no PPA for the top"}
    logic_area = top["logic_area_um2"]
    logic_power = (top.get("power_mw") or 0.0) - top.get("sram_power_mw", 0.0)
    sram_area = memories["area_um2"] if memories else top["sram_area_um2"]
    sram_power = memories["power_mw"] if memories else top.get("sram_power_mw", 0.0)
    ops = 2 * block["macs"]
    out = {}
    clocks = {"at_100mhz": CLOCK_MHZ}
    if top.get("fmax_mhz"):
        clocks["at_fmax"] = top["fmax_mhz"]
    for key, mhz in clocks.items():
        latency_s = block["block_cycles"] / (mhz * 1e6)
        gops = ops / latency_s / 1e9
        entry = {"clock_mhz": mhz, "latency_us": latency_s * 1e6, "gops": gops,
                 "gops_per_mm2_logic": gops / (logic_area / 1e6),
                 "gops_per_mm2": gops / ((logic_area + sram_area) / 1e6), "sram_mm2": sram_area / 1e6}
        if top.get("power_mw") and key == "at_100mhz":
            power_mw = logic_power + sram_power
            entry["power_mw"] = power_mw
            entry["gops_per_w"] = gops / (power_mw / 1e3)
            entry["energy_per_block_uj"] = power_mw * 1e-3 * latency_s * 1e6
        out[key] = entry
    return out


def vector_lanes_tradeoff(cfg: G.BlockConfig) -> list[dict]:
    """Block cycles (model) of this and the full-size blocks with fewer vector lanes (VL): the vector unit's
    area shrinks with VL, its softmax / LayerNorm tasks take R / VL times longer and overlap GEMMs."""
    rows = []
    for lanes in vector_lane_options(cfg):
        row = {"vector_lanes": lanes}
        for name in (cfg.name, *FULL_SIZE):
            shape = dataclasses.replace(G.CONFIGS[name], vector_lanes=lanes)
            row[name] = estimate_block(shape).block_over_tile_ideal
        rows.append(row)
    return rows


def build_report(config: str = "vit_tiny", simulate: bool = True, with_ppa: bool = True, seed: int = 0,
                 progress: Callable[[str], None] | None = None, top_timeout_s: float = 3600.0,
                 jobs: int = 1) -> dict:
    if config not in G.CONFIGS:
        raise KeyError(f"unknown config {config!r}; choose from {', '.join(G.CONFIGS)}")
    cfg = G.CONFIGS[config]
    measured = None
    if config in SIMULATED:
        if progress:
            progress(f"simulating {config} (cached after the first run)")
        measured = measured_block(config, seed, simulate)
    report = {"technology": "OSU018 0.18um", "assumptions": assumptions(), "block": block_summary(cfg, measured),
              "gemms": gemm_rows(cfg, measured)}
    report["model_vs_simulation"] = []
    for name in SIMULATED:
        m = measured if name == config else measured_block(name, seed, simulate=False)
        if m and m.get("passed"):
            report["model_vs_simulation"].append({"config": name, "simulated": m["block_cycles"],
                                                  "model": estimate_block(G.CONFIGS[name]).block_cycles,
                                                  "bit_exact": m["bit_exact"]})
    report["full_size"] = [block_summary(G.CONFIGS[n], None) for n in FULL_SIZE]
    if progress:
        progress("quantisation error of the integer block vs float64")
    report["quantisation_error"] = G.quant_error_report(cfg, seed=seed, n_calib=4, n_eval=2)
    report["sram"] = {name: sram(G.CONFIGS[name]) for name in (config, *FULL_SIZE)}
    report["vector_lanes"] = vector_lanes_tradeoff(cfg)
    if with_ppa:
        report["ppa"] = ppa_section(cfg, progress, top_timeout_s, jobs)
        top = next((v for k, v in report["ppa"].items() if k.startswith("qblock_top")), None)
        if top is None or top.get("area_um2") is None:
            top = composed_top(report["ppa"], cfg)
            report["ppa"]["top_composed"] = top
        report["ppa_top_used"] = top
        report["derived"] = {b["config"]: derived(b, top, None if b["config"] == config else report["sram"][b["config"]])
                             for b in [report["block"], *report["full_size"]]}
    return report
