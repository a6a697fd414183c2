"""cocotb testbench of systolic_array: random tile streams against numpy, and the zero-bubble property
(back-to-back tiles with K >= C produce column words on consecutive cycles)."""

from __future__ import annotations

import itertools
import random

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accelerator_baseline.tb.common import lanes, pack, start


async def collect(dut, R: int, out: list, cycles: list) -> None:
    cycle = 0
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        cycle += 1
        if dut.out_valid.value == 1:
            out.append(lanes(int(dut.out_vec.value), R, 32))
            cycles.append(cycle)


async def run_tiles(dut, R: int, C: int, tiles: list, gaps: bool, rng: random.Random) -> None:
    for a, b in tiles:
        K = a.shape[1]
        for step in range(max(K, C)):
            await FallingEdge(dut.clk)
            k = step - max(C - K, 0)   # short tiles start with idle beats
            v = k >= 0
            dut.in_valid.value = int(v)
            dut.in_first.value = int(k == 0)
            dut.in_last.value = int(k == K - 1)
            dut.a_vec.value = pack(a[:, k], 8) if v else 0
            dut.b_vec.value = pack(b[k, :], 8) if v else 0
        if gaps and rng.random() < 0.3:
            for _ in range(rng.randint(1, 2 * C)):
                await FallingEdge(dut.clk)
                dut.in_valid.value = 0
    await FallingEdge(dut.clk)
    dut.in_valid.value = 0


def random_tiles(R: int, C: int, n: int, ks: list[int], rng: np.random.Generator) -> list:
    tiles = []
    for i in range(n):
        K = ks[i % len(ks)]
        a = rng.integers(-128, 128, (R, K))
        b = rng.integers(-128, 128, (K, C))
        if i % 5 == 1:
            a[:] = -128
            b[:] = -128
        tiles.append((a, b))
    return tiles


@cocotb.test()
async def array_matches_numpy(dut):
    R, C = int(dut.R.value), int(dut.C.value)
    rng, prng = np.random.default_rng(5), random.Random(5)
    dut.in_valid.value = 0
    await start(dut)
    # phase 1: back-to-back tiles, K >= C: no bubbles allowed
    tiles = random_tiles(R, C, 12, [C, C + 3, 2 * C + 1, 64], rng)
    out, cycles = [], []
    mon = cocotb.start_soon(collect(dut, R, out, cycles))
    await run_tiles(dut, R, C, tiles, gaps=False, rng=prng)
    for _ in range(3 * (R + C) + 10):
        await RisingEdge(dut.clk)
    mon.cancel()
    expect = [list((a @ b)[:, j]) for a, b in tiles for j in range(C)]
    assert len(out) == len(expect), f"{len(out)} column words, expected {len(expect)}"
    assert out == expect, "phase 1 results differ"
    tile_cycles = [max(a.shape[1], C) for a, _ in tiles]
    # each tile's C words appear on consecutive cycles; a tile's words follow the previous tile's by its own length
    starts = cycles[::C]
    assert all(cycles[i * C + C - 1] - cycles[i * C] == C - 1 for i in range(len(tiles)))
    assert [s1 - s0 for s0, s1 in itertools.pairwise(starts)] == tile_cycles[1:]
    # phase 2: short tiles (K < C, padded with idle beats) and random gaps
    tiles = random_tiles(R, C, 12, [1, 2, C - 1 if C > 1 else 1, C, 3 * C], rng)
    out, cycles = [], []
    mon = cocotb.start_soon(collect(dut, R, out, cycles))
    await run_tiles(dut, R, C, tiles, gaps=True, rng=prng)
    for _ in range(3 * (R + C) + 10):
        await RisingEdge(dut.clk)
    mon.cancel()
    expect = [list((a @ b)[:, j]) for a, b in tiles for j in range(C)]
    bad = [i for i, (o, e) in enumerate(zip(out, expect)) if o != e]
    assert out == expect, (f"phase 2: {len(out)} words (expected {len(expect)}), first differing word {bad[:1]} "
                           f"of tile K={[a.shape[1] for a, _ in tiles]}")
