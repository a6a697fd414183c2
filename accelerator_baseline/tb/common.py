"""Shared cocotb helpers for the baseline unit testbenches."""

from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge


async def start(dut, reset: bool = True) -> None:
    """Start a 100 MHz clock on dut.clk and pulse dut.rst (if present) for 3 cycles."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    if reset and hasattr(dut, "rst"):
        dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(dut.clk)
        dut.rst.value = 0


def signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def lanes(word: int, n: int, bits: int) -> list[int]:
    return [signed(word >> (i * bits), bits) for i in range(n)]


def pack(values, bits: int) -> int:
    word = 0
    for i, v in enumerate(values):
        word |= (int(v) & ((1 << bits) - 1)) << (i * bits)
    return word
