"""cocotb testbench of vector_unit against the golden kernels: softmax rows (random, all-equal, one-hot,
int32 extremes) and LayerNorm rows (random, zero variance, full int16 swing)."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from accelerator_baseline import golden as G
from accelerator_baseline.tb.common import lanes, pack, start


async def run_rows(dut, n_lanes: int, op: int, rows: np.ndarray, pm: list[int] | None = None) -> np.ndarray:
    """Run one row operation on rows [lanes, N]; serve reads from a 1-cycle-latency memory model."""
    n = rows.shape[1]
    words = [pack(rows[:, j], 32) for j in range(n)]
    out = np.full((n_lanes, n), 9999, dtype=np.int64)
    await FallingEdge(dut.clk)
    dut.op.value = op
    dut.count.value = n
    dut.start.value = 1
    pending = None  # read requested in the previous cycle: its data are visible in this one
    for _ in range(20 * n + 400):
        await FallingEdge(dut.clk)   # mid-cycle: sample this cycle's request and write, serve last request
        dut.start.value = 0
        request = int(dut.rd_idx.value) if dut.rd_en.value == 1 else None
        if dut.wr_en.value == 1:
            out[:, int(dut.wr_idx.value)] = lanes(int(dut.wr_data.value), n_lanes, 8)
        if dut.done.value == 1:
            return out
        if pending is not None:
            dut.rd_data.value = words[pending]
            dut.pm_data.value = pm[pending] if pm else 0
        pending = request
    raise AssertionError("vector unit did not signal done")


def set_softmax(dut, c: G.SoftmaxConstants) -> None:
    dut.sm_pre_shift.value = c.pre_shift
    dut.sm_qln2.value = c.q_ln2
    dut.sm_qb.value = c.q_b
    dut.sm_qc.value = c.q_c
    dut.sm_zmul.value = c.z_mul
    dut.sm_xmax.value = c.x_max


@cocotb.test()
async def softmax_rows(dut):
    n_lanes = int(dut.LANES.value)
    rng = np.random.default_rng(11)
    for sig in (dut.start, dut.rd_data, dut.pm_data):
        sig.value = 0
    await start(dut)
    for scale, n in ((1e-3, 8), (3e-5, 37), (0.01, 16), (2e-4, 5)):
        c = G.softmax_constants(scale)
        set_softmax(dut, c)
        cases = [rng.integers(-int(8 / scale), int(8 / scale), (n_lanes, n)),
                 np.tile(rng.integers(-10**6, 10**6, (n_lanes, 1)), (1, n)),            # all-equal rows
                 rng.choice([-(2**31), 2**31 - 1, 0, -1], (n_lanes, n)),                # int32 extremes
                 np.where(np.eye(n_lanes, n, dtype=bool), 10**7, -(10**7))]           # one-hot
        for rows in cases:
            got = await run_rows(dut, n_lanes, 0, rows)
            ref = G.softmax_int(rows, c)
            assert np.array_equal(got, ref), f"softmax scale {scale} n {n}:\n{got}\n!=\n{ref}"


@cocotb.test()
async def layernorm_rows(dut):
    n_lanes = int(dut.LANES.value)
    rng = np.random.default_rng(12)
    for sig in (dut.start, dut.rd_data, dut.pm_data):
        sig.value = 0
    await start(dut)
    for n, s_out in ((16, 0.02), (48, 0.05), (7, 0.004)):
        c = G.layernorm_constants(rng.normal(1, 0.2, n), rng.normal(0, 0.3, n), s_out)
        dut.ln_shift.value = c.shift
        pm = [((g & 0xFFFF) << 16) | (b & 0xFFFF) for g, b in zip(c.gamma_q, c.beta_q)]
        swing = np.where(rng.random((n_lanes, n)) < 0.5, -32768, 32767)
        cases = [rng.integers(-300, 300, (n_lanes, n)), rng.integers(-32768, 32768, (n_lanes, n)), swing,
                 np.tile(rng.integers(-32768, 32768, (n_lanes, 1)), (1, n))]           # zero variance
        flat = rng.integers(-5, 5, (n_lanes, n))
        flat[0] = -32768
        cases.append(flat)
        for rows in cases:
            got = await run_rows(dut, n_lanes, 1, rows, pm)
            ref = G.layernorm_int(rows, c)
            assert np.array_equal(got, ref), f"layernorm n {n}:\n{rows}\n{got}\n!=\n{ref}"
