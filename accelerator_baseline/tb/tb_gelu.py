"""cocotb testbench of the streaming i-GELU (igelu) against golden.gelu_int: random inputs at three scales,
int34 extremes, gelu_en toggling (bypass), one beat per cycle with gaps, checked beat by beat via out_valid."""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accelerator_baseline import golden as G
from accelerator_baseline.tb.common import lanes, pack, start


@cocotb.test()
async def gelu_stream(dut):
    n_lanes = int(dut.LANES.value)
    prng = random.Random(13)
    dut.in_valid.value = 0
    await start(dut)
    for scale in (2e-4, 3e-6, 0.05):
        c = G.gelu_constants(scale)
        await FallingEdge(dut.clk)
        dut.pre_shift.value = c.pre_shift
        dut.qb.value = c.q_b
        dut.qc.value = c.q_c
        sent, got = [], []
        for i in range(330):
            await FallingEdge(dut.clk)
            valid = i < 300 and prng.random() < 0.9
            dut.in_valid.value = int(valid)
            if valid:
                en = prng.random() < 0.8
                x = [prng.choice([-(2**33), 2**33 - 1, 0, -1, 1]) if prng.random() < 0.1
                     else prng.randint(-int(6 / scale), int(6 / scale)) for _ in range(n_lanes)]
                dut.gelu_en.value = int(en)
                dut.in_vec.value = pack(x, 34)
                sent.append([int(v) for v in (G.gelu_int(np.array(x), c) if en else x)])
            await RisingEdge(dut.clk)
            await ReadOnly()
            if dut.out_valid.value == 1:
                got.append(lanes(int(dut.out_vec.value), n_lanes, 40))
        bad = [i for i, (a, b) in enumerate(zip(got, sent)) if a != b]
        assert len(got) == len(sent) and not bad, (
            f"gelu scale {scale}: {len(got)} of {len(sent)} beats, {len(bad)} differ"
            + (f", first #{bad[0]}: {got[bad[0]]} != {sent[bad[0]]}" if bad else ""))
