"""`hwagent compare`: generated designs next to their references, measured in one run with one flow.

    result = compare([Path("runs/demo/runs")], Path("runs/demo/compare"), Settings(), blocks=["tiny"])

Every design found gets its official verdict; passing designs with a reference are priced with the reference
(verify.ppa, same library, clock target, activity and SRAM model) and each figure's ratio to the reference is
given (1.0 = the expert). Units that can take the expert unit's place run in the hybrid block (`blocks`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from evals.compare import hybrid
from evals.compare.designs import Design, find_designs
from evals.compare.pricing import ASSUMPTIONS, TOP_TIMEOUT_S, Settings, figures, price, ratios
from verify.ppa import ASSUMPTIONS as STA_ASSUMPTIONS
from verify.ppa import SramModel, SynthesisError

RESULT = "compare.json"
Progress = Callable[[str], None]


def compare(paths: list[Path], out: Path, settings: Settings, *, blocks: list[str] = (), data: str | None = None,
            specs: Path | None = None, baseline: bool = False, block_ppa: bool = True,
            progress: Progress = lambda message: None) -> dict:
    """Find, judge, price and compare every design under `paths`; write out/compare.json; return it."""
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    designs = find_designs(paths, data)
    rows = [design_row(d, settings, work, progress) for d in designs]
    units = [d for d in designs if d.passed and d.unit in hybrid.INSTANCES]
    hybrids = []
    for config in blocks:
        for design in units:
            progress(f"hybrid {config} block with the generated {design.unit} of {design.name} ...")
            hybrids.append(hybrid.hybrid_block(design, config, settings, work, with_ppa=block_ppa))
    result = {
        "settings": asdict(settings), "assumptions": [ASSUMPTIONS, *STA_ASSUMPTIONS, SramModel().describe()],
        "designs": rows, "hybrid": hybrids, "design_space": design_space(specs) if specs else [],
        "baseline_tops": baseline_tops(blocks or ["tiny"], settings, work, progress) if baseline else [],
        "scripted": any("SCRIPTED" in d.model for d in designs),
    }
    (out / RESULT).write_text(json.dumps(result, indent=1) + "\n")
    return result


def design_row(design: Design, settings: Settings, work: Path, progress: Progress) -> dict:
    """One design: listed with its verdict; priced next to its reference when it passed."""
    latency = design.latency.cycles if design.latency and design.latency.kind == "fixed" else None
    per_op = design.latency.initiation_interval if design.latency else None
    row = {"name": design.name, "source": design.source, "top": design.top, "model": design.model,
           "passed": design.passed, "verdict": design.verdict, "unit": design.unit,
           "reference": design.reference.label if design.reference else None, "parameters": design.parameters}
    if not design.passed:
        return row | {"status": "failed its verdict (not priced)"}
    if design.reference is None:
        return row | {"status": "no reference (not priced)"}
    progress(f"PPA of {design.name} and its reference ...")
    try:
        mine = price(((f"{design.top}.v", design.code),), design.top, design.parameters, settings, work / "designs")
    except SynthesisError as exc:
        return row | {"status": f"synthesis failed: {str(exc).splitlines()[0]}"}
    theirs = price(design.reference.files, design.reference.top, design.parameters, settings, work / "references")
    generated, reference = figures(mine, latency, per_op), figures(theirs, latency, per_op)
    notes = [f"{who} fmax {report.fmax_mhz:g} MHz is below the {settings.clock_mhz:g} MHz target: its power and "
             f"energy are at a clock it does not reach" for who, report in (("design", mine), ("reference", theirs))
             if report.fmax_mhz is not None and report.fmax_mhz < settings.clock_mhz]
    return row | {"status": "priced", "design_ppa": generated, "reference_ppa": reference,
                  "ratios": ratios(generated, reference), "notes": notes,
                  "missing": sorted(set(mine.missing) | set(theirs.missing))}


def baseline_tops(configs: list[str], settings: Settings, work: Path, progress: Progress) -> list[dict]:
    """The all-expert qblock_top of each config: PPA (buffers as SRAM macros) and block cycles (cycle model)."""
    from accelerator_baseline.cycle_model import estimate_block
    from accelerator_baseline.golden import CONFIGS
    from accelerator_baseline.hwmap import rtl_parameters
    from accelerator_baseline.ppa import MACROS
    from accelerator_baseline.sim import rtl_files

    tops = []
    for config in configs:
        progress(f"PPA of the all-expert qblock_top ({config}) ...")
        cfg = CONFIGS[config]
        cycles = estimate_block(cfg).block_cycles
        try:
            report = price(tuple((p.name, p.read_text()) for p in rtl_files()), "qblock_top", rtl_parameters(cfg),
                           settings, work / "tops", MACROS, TOP_TIMEOUT_S)
        except SynthesisError as exc:
            tops.append({"config": config, "error": str(exc).splitlines()[0]})
            continue
        tops.append({"config": config, "ppa": figures(report, cycles, cycles), "sram_um2": report.macro_area_um2})
    return tops


def design_space(specs: Path) -> list[dict]:
    """The (array shape, dataflow) points `hwagent spec` considered (specs/mapping.json), with the mapping's
    area model (PEs, SRAM and fixed units; an estimate, not synthesised) and cycles per inference."""
    from spec_templates.mapping import FIXED_AREA_UM2, PE_AREA_UM2, SRAM_UM2_PER_KIB

    mapping = json.loads((specs / "mapping.json").read_text())
    sram = mapping["budget"]["sram_kib"] * SRAM_UM2_PER_KIB
    chosen = (mapping["rows"], mapping["cols"], mapping["dataflow"])
    return [{"rows": c["rows"], "cols": c["cols"], "dataflow": c["dataflow"], "cycles": c["cycles"],
             "area_um2": c["rows"] * c["cols"] * PE_AREA_UM2 + sram + FIXED_AREA_UM2,
             "chosen": (c["rows"], c["cols"], c["dataflow"]) == chosen} for c in mapping["candidates"]]
