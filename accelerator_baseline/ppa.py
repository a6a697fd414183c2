"""PPA of the baseline accelerator's units and top through verify.ppa (Yosys -> OSU018 -> OpenSTA).

Each target is a module of rtl/ with parameter overrides (and, for the top, its buffers kept as SRAM macros
priced by verify.ppa.SramModel); results are cached by verify by content hash. Technology: OSU018 0.18 um;
see verify.ppa.ASSUMPTIONS for the STA assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelerator_baseline.sim import RTL_FILES, rtl_dir

CLOCK_MHZ = 100.0
ACTIVITY = 0.1


@dataclass(frozen=True)
class PPATarget:
    name: str
    top: str
    files: tuple[str, ...]
    parameters: tuple[tuple[str, int], ...] = ()
    note: str = ""
    macros: tuple[str, ...] = ()


def targets(rows: int = 16) -> list[PPATarget]:
    """Units at the given array size (lanes = rows), one buffer bank, and the top at the smallest legal shape
    (tokens = d = d_ff = rows, one head) so that its flip-flop buffers stay synthesizable."""
    r = rows
    return [
        PPATarget("pe", "pe", ("pe.v",), note="one processing element"),
        PPATarget(f"systolic_array_{r}x{r}", "systolic_array", ("pe.v", "systolic_array.v"),
                  (("R", r), ("C", r)), note="PEs, skew, row drain, de-skew"),
        PPATarget(f"requant_{r}", "requant", ("requant.v",), (("LANES", r), ("IN_W", 40))),
        PPATarget(f"vector_unit_{r}", "vector_unit", ("vector_unit.v",), (("LANES", r),),
                  note="softmax, LayerNorm, isqrt, divider, i-GELU lanes"),
        PPATarget(f"buffer_{r * 8}b_x64", "sram_1w1r", ("buffers.v",), (("WIDTH", r * 8), ("DEPTH", 64)),
                  note="one 64-word operand buffer bank as flip-flops (no SRAM macros in OSU018)"),
        PPATarget(f"qblock_top_R{r}_min", "qblock_top", RTL_FILES,
                  (("R", r), ("L", r), ("D", r), ("H", 1), ("DFF", r)),
                  note="whole top incl. all buffers as flip-flops, smallest shape (L=d=d_ff=R, 1 head)"),
    ]


def synthesize_target(t: PPATarget, clock_mhz: float = CLOCK_MHZ, activity: float = ACTIVITY,
                      timeout_s: float = 3600.0):
    """verify.ppa.synthesize on the target (raises verify.ppa.SynthesisError / ImportError if unavailable)."""
    from verify.ppa import synthesize

    return synthesize([rtl_dir() / name for name in t.files], t.top, clock_mhz=clock_mhz, activity=activity,
                      timeout_s=timeout_s, parameters=dict(t.parameters), macros=t.macros)
