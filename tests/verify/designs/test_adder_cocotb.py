"""cocotb testbench for `adder` (used by the verify tests)."""

import random

import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def random_sums(dut):
    rng = random.Random(1)
    for _ in range(100):
        a, b = rng.randrange(256), rng.randrange(256)
        dut.a.value, dut.b.value = a, b
        await Timer(1, unit="ns")
        assert int(dut.sum.value) == a + b, f"{a} + {b}: got {int(dut.sum.value)}"


@cocotb.test()
async def carry_out(dut):
    dut.a.value, dut.b.value = 255, 1
    await Timer(1, unit="ns")
    assert int(dut.sum.value) == 256, f"255 + 1: got {int(dut.sum.value)}"
