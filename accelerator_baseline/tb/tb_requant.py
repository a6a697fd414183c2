"""cocotb testbench of requant against golden.requant: random and edge inputs (max negative, saturation at
both ends, shifts 1..63, residual add with int16 saturation), one vector per cycle."""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accelerator_baseline import golden as G
from accelerator_baseline.tb.common import lanes, pack, start


def expected(x, res, res_en, mult, shift):
    p = G.RequantParams(mult, shift)
    if res_en:
        return [int(v) for v in G.requant(np.array(x), p, 16, residual=np.array(res))]
    return [int(v) for v in G.requant(np.array(x), p, 8)]


@cocotb.test()
async def requant_matches_golden(dut):
    n, in_w = int(dut.LANES.value), int(dut.IN_W.value)
    count = int(os.environ.get("HWAGENT_RQ_VECTORS", "2000"))
    rng = random.Random(7)
    lo, hi = -(1 << (in_w - 1)), (1 << (in_w - 1)) - 1
    edges = [lo, hi, 0, -1, 1, lo + 1, 2**31 - 1, -(2**31)]
    dut.in_valid.value = 0
    await start(dut)
    sent, got = [], []

    async def capture():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if dut.out_valid.value == 1:
                got.append(lanes(int(dut.out_vec.value), n, 16))

    mon = cocotb.start_soon(capture())
    for _ in range(count):
        mag = rng.choice([8, 16, 24, 32, in_w - 1])
        x = [rng.choice(edges) if rng.random() < 0.15 else rng.randint(-(1 << mag), (1 << mag) - 1) for _ in range(n)]
        res = [rng.choice([-128, 127, 0]) if rng.random() < 0.3 else rng.randint(-128, 127) for _ in range(n)]
        res_en = rng.random() < 0.4
        mult = rng.choice([1 << 14, (1 << 15) - 1, rng.randint(1 << 14, (1 << 15) - 1), rng.randint(0, 1 << 15)])
        mult = min(mult, (1 << 15) - 1)
        shift = rng.choice([1, 2, 15, 30, 47, 63, rng.randint(1, 63)])
        await FallingEdge(dut.clk)
        dut.in_valid.value = 1
        dut.in_vec.value = pack(x, in_w)
        dut.res_vec.value = pack(res, 8)
        dut.res_en.value = int(res_en)
        dut.mult.value = mult
        dut.shift.value = shift
        sent.append(expected(x, res, res_en, mult, shift))
    await FallingEdge(dut.clk)
    dut.in_valid.value = 0
    for _ in range(4):
        await RisingEdge(dut.clk)
    mon.cancel()
    assert len(got) == len(sent)
    bad = [i for i, (a, b) in enumerate(zip(got, sent)) if a != b]
    assert not bad, f"{len(bad)} vectors differ, first #{bad[0]}: got {got[bad[0]]}, golden {sent[bad[0]]}"
