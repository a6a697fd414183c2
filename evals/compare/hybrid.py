"""The hybrid block: the expert qblock_top with one generated unit in place of the expert one, run through the
baseline's whole-block test on the same quantized blocks (golden configs and seeds as `hwagent baseline`).

Reported: bit-exact or not against the golden model, block cycles against the cycle model, and the top's PPA
against the all-expert top (same flow and settings, buffers as modelled SRAM macros). A unit that breaks the
block's latency contract shows up as mismatching outputs, the first wrong intermediate named.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from accelerator_baseline.cycle_model import estimate_block
from accelerator_baseline.golden import CONFIGS, BlockConfig
from accelerator_baseline.hwmap import rtl_parameters
from accelerator_baseline.ppa import MACROS
from accelerator_baseline.sim import rtl_files, run_block, substituted_files
from evals.compare.designs import Design
from evals.compare.pricing import TOP_TIMEOUT_S, Settings, figures, price, ratios, write_sources
from verify.ports import InterfaceError, read_interface
from verify.ppa import SynthesisError

# baseline module -> its parameters where qblock_top instantiates it
INSTANCES: dict[str, Callable[[BlockConfig], dict[str, int]]] = {
    "requant": lambda cfg: {"LANES": cfg.array_rows, "IN_W": 40},
    "igelu": lambda cfg: {"LANES": cfg.array_rows},
    "vector_unit": lambda cfg: {"LANES": cfg.vlanes},
    "systolic_array": lambda cfg: {"R": cfg.array_rows, "C": cfg.array_rows},
    "pe": lambda cfg: {},
}


def interface_mismatch(design: Design, cfg: BlockConfig) -> str | None:
    """Why the generated unit cannot take the expert unit's place in the top (None: same ports and widths)."""
    module = design.unit
    expert_file = next(p for p in rtl_files() if f"module {module}" in p.read_text())
    params = INSTANCES[module](cfg)
    try:
        mine = read_interface(design.code, module, params)
    except InterfaceError as exc:
        return f"cannot read the interface of {module}: {exc}"
    theirs = read_interface(expert_file.read_text(), module, params, file=expert_file.name)
    ports = {(p.name, p.direction, p.width) for p in mine.ports}
    wanted = {(p.name, p.direction, p.width) for p in theirs.ports}
    if ports != wanted:
        missing = ", ".join(f"{n} ({d} [{w}])" for n, d, w in sorted(wanted - ports)) or "none"
        extra = ", ".join(f"{n} ({d} [{w}])" for n, d, w in sorted(ports - wanted)) or "none"
        return f"ports differ from the expert {module}: missing {missing}; unexpected {extra}"
    return None


def hybrid_block(design: Design, config: str, settings: Settings, work: Path, seed: int = 0,
                 with_ppa: bool = True) -> dict:
    """Run the hybrid block of `design` (a passing unit) on golden config `config`; one result row."""
    cfg = CONFIGS[config]
    row: dict = {"design": design.name, "unit": design.unit, "config": config, "seed": seed,
                 "model_cycles": estimate_block(cfg).block_cycles}
    mismatch = interface_mismatch(design, cfg)
    if mismatch:
        return row | {"status": "interface mismatch", "detail": mismatch, "bit_exact": False}
    [unit_file] = write_sources(((f"{design.unit}_generated.v", design.code),), work / "hybrid")
    files = substituted_files(unit_file)
    run = run_block(config, seed, files=files)
    row |= {"status": "bit-exact" if run.get("bit_exact") and run["passed"] else "mismatch",
            "bit_exact": bool(run.get("bit_exact")) and run["passed"], "mismatches": run.get("mismatches"),
            "outputs": run.get("outputs"), "block_cycles": run.get("block_cycles"),
            "first_bad_tensor": run.get("first_bad_tensor"), "reason": run["reason"],
            "sim_wall_s": round(run["sim_wall_s"], 1)}
    if row["block_cycles"] is not None:
        row["cycles_match_model"] = row["block_cycles"] == row["model_cycles"]
    if not row["bit_exact"]:
        row["detail"] = (f"{run.get('mismatches')}/{run.get('outputs')} outputs differ from the golden model; first "
                         f"differing intermediate: {run.get('first_bad_tensor')}" if run.get("mismatches")
                         else (run.get("messages") or [run["reason"]])[0])
    if with_ppa:
        row |= top_ppa(files, cfg, settings, work, row["block_cycles"], row["model_cycles"])
    return row


def top_ppa(files: list[Path], cfg: BlockConfig, settings: Settings, work: Path, block_cycles: int | None,
            model_cycles: int) -> dict:
    """PPA of the hybrid top and of the all-expert top (buffers as SRAM macros), and their ratios; one operation
    is one block (its cycles: simulated for the hybrid, the cycle model's for the expert, which equals its
    simulation)."""
    parameters = rtl_parameters(cfg)

    def synthesize_top(paths: list[Path]):
        return price(tuple((p.name, p.read_text()) for p in paths), "qblock_top", parameters, settings,
                     work / "tops", MACROS, TOP_TIMEOUT_S)

    try:
        with ThreadPoolExecutor(2) as pool:  # the two syntheses are separate Yosys / OpenSTA processes
            hybrid, expert = pool.map(synthesize_top, [files, rtl_files()])
    except SynthesisError as exc:
        return {"top_ppa_error": str(exc).splitlines()[0]}
    mine = figures(hybrid, block_cycles, block_cycles)
    theirs = figures(expert, model_cycles, model_cycles)
    return {"top": mine, "expert_top": theirs, "top_ratios": ratios(mine, theirs),
            "top_sram_um2": hybrid.macro_area_um2}
