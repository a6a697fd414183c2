"""cocotb testbench of pe: random operand/flag streams against a cycle-accurate Python model."""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accelerator_baseline.tb.common import signed, start


@cocotb.test()
async def pe_matches_model(dut):
    rng = random.Random(4)
    for sig in (dut.a_in, dut.b_in, dut.v_in, dut.first_in, dut.last_in):
        sig.value = 0
    await start(dut)
    acc, result, checked = 0, None, 0
    edge_values = [-128, 127, -1, 0, 1]
    k, K = 0, rng.randint(1, 6)
    for cycle in range(3000):
        a = rng.choice(edge_values) if rng.random() < 0.3 else rng.randint(-128, 127)
        b = rng.choice(edge_values) if rng.random() < 0.3 else rng.randint(-128, 127)
        v = rng.random() < 0.8
        await FallingEdge(dut.clk)
        first, last = v and k == 0, v and k == K - 1
        dut.a_in.value, dut.b_in.value = a & 0xFF, b & 0xFF
        dut.v_in.value, dut.first_in.value, dut.last_in.value = int(v), int(first), int(last)
        await RisingEdge(dut.clk)
        if v:
            acc = signed((0 if first else acc) + a * b, 32)
            if last:
                result = acc
            k = 0 if last else k + 1
            if last:
                K = rng.choice([1, 2, 7, 300]) if rng.random() < 0.5 else rng.randint(1, 20)
        await ReadOnly()
        assert signed(int(dut.a_out.value), 8) == a and signed(int(dut.b_out.value), 8) == b
        assert int(dut.v_out.value) == int(v)
        assert int(dut.last_out.value) == int(last) and int(dut.first_out.value) == int(first)
        if result is not None:
            assert signed(int(dut.result.value), 32) == result, f"cycle {cycle}"
            checked += 1
    assert checked > 1000
