"""cocotb testbench of qblock_top: one quantised block run on many inputs; the outputs are written, not judged.

Environment: HWAGENT_QB_CASE (pickle of `(QuantBlock, [int8 inputs [L, d]])`, written by
`accelerator_baseline.sim.run_inputs`), HWAGENT_QB_OUT (JSON file that receives the int8 block output of
every input, as read back through the stream port, and the block cycles of each run). The layer is loaded
before the first START and again while each block runs (loads go to the bank of the next START).
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, First, RisingEdge

from accelerator_baseline import hwmap
from accelerator_baseline.cycle_model import estimate_block
from accelerator_baseline.tb.tb_qblock import load, load_layer, read_act, read_cycles, write_reg


@cocotb.test()
async def block_outputs(dut):
    qb, inputs = pickle.loads(Path(os.environ["HWAGENT_QB_CASE"]).read_bytes())
    cfg = qb.cfg
    r, lay = cfg.array_rows, hwmap.Layout(cfg)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for sig in (dut.cfg_we, dut.ld_valid, dut.out_ready):
        sig.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    limit = 3 * estimate_block(cfg).block_cycles + 1000
    await load_layer(dut, qb)
    outputs, cycles = [], []
    for x in inputs:
        await load(dut, hwmap.SEL_ACT, hwmap.act_words(x, r))
        await write_reg(dut, hwmap.REG_CTRL, 1)
        await load_layer(dut, qb)  # the bank of the next START, while this block runs
        if dut.done.value != 1:
            await First(RisingEdge(dut.done), ClockCycles(dut.clk, limit))
            assert dut.done.value == 1, f"block did not finish within {limit} cycles"
        cycles.append(await read_cycles(dut))
        words = await read_act(dut, lay.xbuf["y"], cfg.tokens // r * cfg.d_model)
        y = hwmap.from_a_layout(hwmap.unpack_words(words, r, 8), cfg.tokens, cfg.d_model)
        outputs.append(y.astype(int).tolist())
    Path(os.environ["HWAGENT_QB_OUT"]).write_text(json.dumps({"outputs": outputs, "block_cycles": cycles}))
