"""The accelerator the execution plan runs on: the emitted output-stationary GEMM engine under a budget.

The engine is the one `hwagent spec` emits (the best output-stationary shape, the baseline array template), so
GEMM compute cycles are the baseline cycle model's (`accelerator_baseline.cycle_model.gemm_cycles`) and the
vector unit has one lane per array row (the baseline at VL = R).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelerator_baseline.cycle_model import TIMING, gemm_cycles
from spec_templates.mapping import Gemm, GemmMapping, HardwareBudget, choose_mapping, map_gemm, pick
from workloads.profile import ModelProfile


class ExecutionError(ValueError):
    """Bad execution-plan input (alpha, gamma, draft, escalation ...); one line."""


@dataclass(frozen=True)
class Engine:
    rows: int
    cols: int
    budget: HardwareBudget

    @property
    def lanes(self) -> int:
        """Vector-unit lanes (one row of a row block each)."""
        return self.rows

    @property
    def sram_bytes(self) -> int:
        return int(self.budget.sram_kib * 1024)

    @property
    def bandwidth(self) -> float:
        return self.budget.offchip_bytes_per_cycle

    def memory_cycles(self, nbytes: float) -> int:
        """Cycles to move `nbytes` over the off-chip interface."""
        return math.ceil(nbytes / self.bandwidth)

    def occupancy(self, m: int, n: int, k: int) -> int:
        """Array-busy cycles of one GEMM (the baseline cycle model)."""
        return gemm_cycles(m, n, k, self.rows, self.cols).occupancy

    @property
    def pipeline(self) -> int:
        """One GEMM pipeline fill and drain, output pipeline included (bias, GELU, requant stages)."""
        return TIMING.gemm_pipeline(self.rows, self.cols)

    def gemm(self, g: Gemm) -> GemmMapping:
        """Roofline of one GEMM on this engine (spec_templates.mapping.map_gemm)."""
        return map_gemm(g, self.rows, self.cols, "output-stationary", self.budget)

    def seconds(self, cycles: float) -> float:
        return cycles / (self.budget.clock_mhz * 1e6)

    def describe(self) -> dict:
        return {"rows": self.rows, "cols": self.cols, "dataflow": "output-stationary", "vector_lanes": self.lanes,
                "sram_bytes": self.sram_bytes, "offchip_bytes_per_cycle": self.bandwidth,
                "clock_mhz": self.budget.clock_mhz}


def engine_for(profile: ModelProfile, budget: HardwareBudget, weight_bits: dict[str, float] | None = None) -> Engine:
    """The GEMM engine `hwagent spec` emits for this workload: the best output-stationary array shape."""
    mapping = choose_mapping(profile, budget, weight_bits=weight_bits)
    rows, cols, _ = pick(mapping.candidates, "output-stationary")
    return Engine(rows, cols, budget)
