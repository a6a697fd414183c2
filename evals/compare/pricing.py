"""PPA of a design and its reference with one flow and one set of settings (verify.ppa), and their ratios.

verify.ppa caches every result by the content of the files and the settings, so pricing the same design twice
(the same reference for many samples, a repeated `hwagent compare`) runs no tool.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from verify.ppa import PPAReport, synthesize

FIGURES = ("area_um2", "cells", "flops", "fmax_mhz", "power_mw", "latency_cycles", "cycles_per_op",
           "energy_pj_per_op")
LOWER_IS_BETTER = {"area_um2", "cells", "flops", "power_mw", "latency_cycles", "cycles_per_op", "energy_pj_per_op"}
ASSUMPTIONS = ("OSU018 0.18 um standard cells (Yosys + ABC, OpenSTA), memories as modelled SRAM macros, no wires "
               "(no wire load, no placement or routing, ideal clock): relative figures only")


@dataclass(frozen=True)
class Settings:
    """The flow settings every design and reference of one comparison share."""

    clock_mhz: float = 100.0
    activity: float = 0.1


TOP_TIMEOUT_S = 3600.0  # a whole qblock_top (the `tiny` one needs about 4 CPU-minutes of Yosys)


def write_sources(files: tuple[tuple[str, str], ...], work: Path) -> list[Path]:
    """The sources on disk under `work`, in a folder named by their content (stable names keep the cache warm)."""
    digest = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
    folder = work / digest
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files:
        path = folder / name
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        paths.append(path)
    return paths


def price(files: tuple[tuple[str, str], ...], top: str, parameters: dict[str, int], settings: Settings,
          work: Path, macros: tuple[str, ...] = (), timeout_s: float = 900.0) -> PPAReport:
    """verify.ppa.synthesize on the sources (raises verify.ppa.SynthesisError)."""
    return synthesize(write_sources(files, work), top, clock_mhz=settings.clock_mhz, activity=settings.activity,
                      parameters=parameters, macros=macros, timeout_s=timeout_s)


def figures(report: PPAReport, latency_cycles: int | None, cycles_per_op: int | None) -> dict[str, float | None]:
    """The compared figures of one design: PPA, latency and cycles per operation (from the latency contract,
    which the official testbench checked), and energy per operation at the clock target."""
    per_op = cycles_per_op or 1
    energy = (report.power_mw / report.clock_mhz * per_op * 1e3) if report.power_mw is not None else None
    return {"area_um2": report.area_um2, "cells": report.cells, "flops": report.flops, "fmax_mhz": report.fmax_mhz,
            "power_mw": report.power_mw, "latency_cycles": latency_cycles, "cycles_per_op": cycles_per_op,
            "energy_pj_per_op": round(energy, 6) if energy is not None else None}


def ratios(design: dict[str, float | None], reference: dict[str, float | None]) -> dict[str, float | None]:
    """Each figure of the design over the reference's (None when either is missing or the reference is 0)."""
    return {name: (design[name] / reference[name] if design.get(name) is not None and reference.get(name)
                   else None) for name in FIGURES}
