"""cocotb testbench for mac_array_4x4: one golden vector per cycle, checks each of the 16 accumulators."""

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

INPUTS = ("en", "clear", "a", "b")
ACC_W = 24


def lanes(packed, width, count):
    """Unpack `count` signed lanes of `width` bits (lane 0 in the low bits)."""
    out = []
    for index in range(count):
        value = (packed >> (index * width)) & ((1 << width) - 1)
        out.append(value - (1 << width) if value >> (width - 1) else value)
    return out


def load_vectors():
    """Golden vectors: the JSON file named by HWAGENT_VECTORS (written by the runner from the spec)."""
    with open(os.environ["HWAGENT_VECTORS"]) as handle:
        return json.load(handle)


def report(dut, count, first, line, limit=10):
    """Log the first `limit` mismatches only (keeps the log short); returns the first line."""
    if count <= limit:
        dut._log.error(line)
    return first or line


@cocotb.test()
async def golden_vectors(dut):
    vectors = load_vectors()
    cocotb.start_soon(Clock(dut.clk, 20, unit="ns").start())
    dut.rst_n.value = 0
    for name in INPUTS:
        getattr(dut, name).value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst_n.value = 1
    mismatches, first = 0, ""
    for cycle, row in enumerate(vectors):
        await FallingEdge(dut.clk)
        for name in INPUTS:
            getattr(dut, name).value = row[name]
        await RisingEdge(dut.clk)
        await ReadOnly()
        value = dut.acc.value
        if not value.is_resolvable:
            mismatches += 1
            line = (f"MISMATCH signal=acc cycle={cycle} time={int(get_sim_time('ps'))} "
                    f"expected={row['acc']:#x} got={value}")
            first = report(dut, mismatches, first, line)
            continue
        expected, got = lanes(row["acc"], ACC_W, 16), lanes(value.to_unsigned(), ACC_W, 16)
        for cell, (want, have) in enumerate(zip(expected, got)):
            if want != have:
                mismatches += 1
                line = (f"MISMATCH signal=acc[{cell // 4}][{cell % 4}] cycle={cycle} "
                        f"time={int(get_sim_time('ps'))} expected={want} got={have}")
                first = report(dut, mismatches, first, line)
    assert mismatches == 0, f"{mismatches} mismatches in {len(vectors)} vectors; first: {first}"
