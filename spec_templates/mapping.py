"""Map a workload profile onto a hardware budget: array shape, dataflow and tiling by roofline.

Compute cycles of an output-stationary GEMM come from the baseline accelerator's cycle model
(`accelerator_baseline.cycle_model.gemm_cycles`, the model checked against the RTL); weight-stationary is
modelled here the same way (tiles over K x N, M rows streamed per tile, at least R cycles per tile).
Off-chip traffic comes from the tile sizes that fit half of the SRAM (the other half double-buffers), and
each GEMM takes max(compute, traffic / bandwidth) cycles plus one pipeline fill (roofline with overlap).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from accelerator_baseline.cycle_model import TIMING, gemm_cycles
from workloads.profile import ModelProfile

Dataflow = Literal["output-stationary", "weight-stationary"]
DATAFLOWS: tuple[Dataflow, ...] = ("output-stationary", "weight-stationary")
ACC_BYTES = 4  # int32 partial sums held on chip

# Area model (OSU018 0.18 um). PE: measured with verify.ppa (Yosys 0.23 + ABC) on an int8 x int8 PE with operand
# forwarding registers and a 32-bit accumulator: 45,351 um^2, 1,258 cells. SRAM: assumed 180 nm 6T macro
# density incl. periphery, ~7.3 um^2/bit. Fixed: requantiser, softmax, GELU, LayerNorm units and control.
PE_AREA_UM2 = 45_351.0
SRAM_UM2_PER_KIB = 60_000.0
FIXED_AREA_UM2 = 400_000.0  # requantiser, softmax, GELU, LayerNorm units and control


class BudgetError(ValueError):
    """A hardware budget that does not validate; one line naming the field."""


class HardwareBudget(BaseModel):
    """What the accelerator may use."""

    model_config = ConfigDict(extra="forbid")

    pe_count: int = Field(ge=4, description="multiply-accumulate units")
    sram_kib: float = Field(gt=0, description="on-chip buffer, KiB")
    offchip_bytes_per_cycle: float = Field(gt=0, description="DRAM bandwidth per clock cycle")
    clock_mhz: float = Field(gt=0, le=2000)
    area_mm2: float | None = Field(default=None, gt=0, description="total area budget")
    max_rows: int | None = Field(default=None, ge=2)

    @model_validator(mode="after")
    def _possible(self) -> HardwareBudget:
        if self.area_mm2 is not None:
            needed = self.min_area_um2() / 1e6
            if needed > self.area_mm2:
                raise ValueError(f"area_mm2: {self.area_mm2} mm^2 cannot hold {self.pe_count} PEs and "
                                 f"{self.sram_kib:g} KiB SRAM (needs about {needed:.2f} mm^2)")
        return self

    def min_area_um2(self) -> float:
        return self.pe_count * PE_AREA_UM2 + self.sram_kib * SRAM_UM2_PER_KIB + FIXED_AREA_UM2


def parse_budget(data: object, source: str = "budget") -> HardwareBudget:
    if not isinstance(data, dict):
        raise BudgetError(f"{source}: expected a mapping of budget fields")
    try:
        return HardwareBudget.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        raise BudgetError(f"{source}: {loc + ': ' if loc and not msg.startswith(loc) else ''}{msg}") from None


class Gemm(BaseModel):
    """One GEMM shape of the workload with its multiplicity per inference."""

    name: str
    kind: Literal["weight", "activation"]  # x W (weights from DRAM) or activation x activation (attention)
    m: int
    n: int
    k: int
    count: int  # independent GEMMs per call (heads x batch)
    repeat: int  # calls per inference (stack depth)
    weight_bits: float = 8.0  # stored width of B (compressed weights are unpacked at the array input)

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.count * self.repeat


class Tiling(BaseModel):
    tm: int
    tn: int
    tk: int
    traffic_bytes: int  # one GEMM instance


class GemmMapping(BaseModel):
    gemm: Gemm
    tiling: Tiling
    compute_cycles: int  # all instances
    memory_cycles: int
    cycles: int
    utilization: float
    bound: Literal["compute", "memory"]


class Mapping(BaseModel):
    rows: int
    cols: int
    dataflow: Dataflow
    phase: str
    gemms: list[GemmMapping]
    total_cycles: int
    total_macs: int
    utilization: float
    latency_ms: float
    ridge_macs_per_byte: float  # roofline ridge point of this array and bandwidth
    candidates: list[dict]  # every (shape, dataflow) considered with its total cycles


def gemms_of(profile: ModelProfile, phase: str, weight_bits: dict[str, float] | None = None) -> list[Gemm]:
    """Every GEMM of one phase (block GEMMs carry the stack depth as `repeat`)."""
    gemms = []
    for section in profile.phase(phase).sections:
        for layer in section.layers:
            if layer.op not in ("linear", "matmul"):
                continue
            name = f"{section.name}.{layer.name}"
            gemms.append(Gemm(name=name, kind="weight" if layer.op == "linear" else "activation", m=layer.m,
                              n=layer.n, k=layer.k, count=layer.count, repeat=section.repeat,
                              weight_bits=(weight_bits or {}).get(name, 8)))
    return gemms


def compute_cycles(g: Gemm, rows: int, cols: int, dataflow: Dataflow) -> int:
    """Array-busy cycles of one GEMM instance (no pipeline fill)."""
    if dataflow == "output-stationary":
        return gemm_cycles(g.m, g.n, g.k, rows, cols).occupancy
    tiles = math.ceil(g.k / rows) * math.ceil(g.n / cols)
    return tiles * max(g.m, rows)


def best_tiling(g: Gemm, rows: int, cols: int, sram_bytes: float) -> Tiling:
    """Tile sizes (multiples of the array) minimising off-chip traffic within half the SRAM.

    Traffic of one instance: A (M x K int8) is re-read once per column of tiles, B (K x N at the weight
    width) once per row of tiles, C (M x N int8) written once. Activation x activation GEMMs stream both
    operands the same way. Partial sums of a tile stay on chip (int32)."""
    budget = sram_bytes / 2
    wbytes = g.weight_bits / 8
    best: Tiling | None = None
    tm_options = sorted({min(g.m, rows * 2**i) for i in range(16)})
    tn_options = sorted({min(g.n, cols * 2**i) for i in range(16)})
    for tm in tm_options:
        for tn in tn_options:
            fixed = tm * tn * ACC_BYTES
            per_k = tm + tn * wbytes
            if fixed + per_k * min(g.k, rows) > budget:
                continue
            tk = min(g.k, int((budget - fixed) // per_k))
            traffic = int(g.m * g.k * math.ceil(g.n / tn) + g.k * g.n * wbytes * math.ceil(g.m / tm) + g.m * g.n)
            if best is None or traffic < best.traffic_bytes:
                best = Tiling(tm=tm, tn=tn, tk=tk, traffic_bytes=traffic)
    if best is None:
        raise BudgetError(f"sram_kib: {sram_bytes / 1024:g} KiB cannot hold one {rows}x{cols} tile of {g.name} "
                          f"(K={g.k}) with double buffering")
    return best


def map_gemm(g: Gemm, rows: int, cols: int, dataflow: Dataflow, budget: HardwareBudget) -> GemmMapping:
    tiling = best_tiling(g, rows, cols, budget.sram_kib * 1024)
    instances = g.count * g.repeat
    compute = compute_cycles(g, rows, cols, dataflow) * instances
    memory = math.ceil(tiling.traffic_bytes / budget.offchip_bytes_per_cycle) * instances
    fill = TIMING.gemm_pipeline(rows, cols) * g.repeat
    cycles = max(compute, memory) + fill
    return GemmMapping(gemm=g, tiling=tiling, compute_cycles=compute, memory_cycles=memory, cycles=cycles,
                       utilization=g.macs / (cycles * rows * cols), bound="compute" if compute >= memory else "memory")


def array_shapes(budget: HardwareBudget) -> list[tuple[int, int]]:
    """Power-of-two R x C arrays using at least half the PE budget (R, C >= 2)."""
    shapes = []
    for r_exp in range(1, 12):
        for c_exp in range(1, 12):
            rows, cols = 2**r_exp, 2**c_exp
            if budget.pe_count // 2 < rows * cols <= budget.pe_count and rows <= (budget.max_rows or rows):
                shapes.append((rows, cols))
    if not shapes:
        raise BudgetError(f"pe_count: {budget.pe_count} gives no power-of-two array of at least 2x2")
    return shapes


TIE_TOLERANCE = 0.01


def pick(candidates: list[dict], dataflow: Dataflow | None) -> tuple[int, int, Dataflow]:
    """The fastest candidate (of `dataflow`, if given); shapes within 1 % of it count as ties and the
    squarest wins (shorter skew and drain pipelines, balanced operand bandwidth)."""
    pool = [c for c in candidates if dataflow is None or c["dataflow"] == dataflow]
    best = min(c["cycles"] for c in pool)
    ties = [c for c in pool if c["cycles"] <= best * (1 + TIE_TOLERANCE)]
    chosen = min(ties, key=lambda c: (abs(math.log2(c["rows"] / c["cols"])), c["cycles"]))
    return chosen["rows"], chosen["cols"], chosen["dataflow"]


def choose_mapping(profile: ModelProfile, budget: HardwareBudget, phase: str | None = None,
                   weight_bits: dict[str, float] | None = None) -> Mapping:
    """The array shape and dataflow with the fewest total cycles on `phase` (default: the main phase)."""
    phase = phase or profile.main_phase.name
    gemms = gemms_of(profile, phase, weight_bits)
    if not gemms:
        raise ValueError(f"profile phase {phase!r} has no GEMMs")
    candidates = []
    for rows, cols in array_shapes(budget):
        for dataflow in DATAFLOWS:
            total = sum(map_gemm(g, rows, cols, dataflow, budget).cycles for g in gemms)
            candidates.append({"rows": rows, "cols": cols, "dataflow": dataflow, "cycles": total})
    rows, cols, dataflow = pick(candidates, dataflow=None)
    mapped = [map_gemm(g, rows, cols, dataflow, budget) for g in gemms]
    total = sum(m.cycles for m in mapped)
    macs = sum(g.macs for g in gemms)
    return Mapping(rows=rows, cols=cols, dataflow=dataflow, phase=phase, gemms=mapped, total_cycles=total,
                   total_macs=macs, utilization=macs / (total * rows * cols),
                   latency_ms=total / (budget.clock_mhz * 1e3),
                   ridge_macs_per_byte=rows * cols / budget.offchip_bytes_per_cycle,
                   candidates=sorted(candidates, key=lambda c: c["cycles"]))
