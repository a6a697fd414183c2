"""PPA of the baseline accelerator's units and top through verify.ppa (Yosys -> OSU018 -> OpenSTA).

Each target is a module of rtl/ with parameter overrides; the top keeps its buffers as SRAM macros priced by
verify.ppa.SramModel (OSU018 has no memory compiler), so its standard-cell area, fmax and power are the
logic's, and the memories are listed apart. Results are cached by verify by content hash. Technology:
OSU018 0.18 um; see verify.ppa.ASSUMPTIONS for the STA assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelerator_baseline.golden import BlockConfig
from accelerator_baseline.hwmap import rtl_parameters
from accelerator_baseline.sim import RTL_FILES, rtl_dir

CLOCK_MHZ = 100.0
ACTIVITY = 0.1
MACROS = ("sram_1w1r", "sram_1w2r")


@dataclass(frozen=True)
class PPATarget:
    name: str
    top: str
    files: tuple[str, ...]
    parameters: tuple[tuple[str, int], ...] = ()
    note: str = ""
    macros: tuple[str, ...] = ()


def vector_lane_options(cfg: BlockConfig) -> list[int]:
    """The configuration's vector lanes and half and a quarter of them (those that divide R): the lanes the
    report prices and times as the vector unit's area / cycles trade-off."""
    r, vl = cfg.array_rows, cfg.vlanes
    return list(dict.fromkeys(v for v in (vl, vl // 2, vl // 4) if v >= 1 and r % v == 0))


def targets(cfg: BlockConfig) -> list[PPATarget]:
    """Units at the configuration's array size, the vector unit at its lanes and at fewer lanes (the
    area / cycles trade-off), one flip-flop buffer bank for reference, and the whole top (buffers as SRAM)."""
    r, vl = cfg.array_rows, cfg.vlanes
    units = [
        PPATarget("pe", "pe", ("pe.v",), note="one processing element"),
        PPATarget(f"systolic_array_{r}x{r}", "systolic_array", ("pe.v", "systolic_array.v"),
                  (("R", r), ("C", r)), note="PEs, skew, row drain, de-skew"),
        PPATarget(f"requant_{r}", "requant", ("requant.v",), (("LANES", r), ("IN_W", 40)),
                  note="multiply, round, shift, residual, saturate"),
        PPATarget(f"igelu_{r}", "igelu", ("igelu.v",), (("LANES", r),), note="streaming i-GELU"),
    ]
    for lanes in vector_lane_options(cfg):
        units.append(PPATarget(f"vector_unit_{lanes}", "vector_unit", ("vector_unit.v",), (("LANES", lanes),),
                               note="softmax and LayerNorm lanes (isqrt, divider)"
                                    + ("" if lanes == vl else f"; trade-off: VL={lanes}")))
    units += [
        PPATarget(f"buffer_{r * 8}b_x64", "sram_1w1r", ("buffers.v",), (("WIDTH", r * 8), ("DEPTH", 64)),
                  note="64 words as flip-flops, for reference (the top uses SRAM macros)"),
        PPATarget(f"qblock_top_{cfg.name}", "qblock_top", RTL_FILES, tuple(rtl_parameters(cfg).items()),
                  note="whole top; buffers as SRAM macros (model)", macros=MACROS),
    ]
    return units


def synthesize_target(t: PPATarget, clock_mhz: float = CLOCK_MHZ, activity: float = ACTIVITY,
                      timeout_s: float = 3600.0):
    """verify.ppa.synthesize on the target (raises verify.ppa.SynthesisError / ImportError if unavailable)."""
    from verify.ppa import synthesize

    return synthesize([rtl_dir() / name for name in t.files], t.top, clock_mhz=clock_mhz, activity=activity,
                      timeout_s=timeout_s, parameters=dict(t.parameters), macros=t.macros)
