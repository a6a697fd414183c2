"""Run the baseline RTL in simulation (through verify.sim) and collect measurements.

`run_block(config)` simulates qblock_top on one configuration with the cocotb testbench in
accelerator_baseline/tb/tb_qblock.py and returns its JSON measurements (bit-exactness, block cycles, per-GEMM
feed windows). `run_unit(module, top, params)` runs one of the unit testbenches.
"""

from __future__ import annotations

import json
import os
import tempfile
from importlib import resources
from pathlib import Path

from accelerator_baseline.golden import CONFIGS
from accelerator_baseline.hwmap import rtl_parameters

RTL_FILES = ("pe.v", "systolic_array.v", "requant.v", "igelu.v", "vector_unit.v", "buffers.v", "qblock_top.v")


def rtl_dir() -> Path:
    return Path(str(resources.files("accelerator_baseline") / "rtl"))


def tb_dir() -> Path:
    return Path(str(resources.files("accelerator_baseline") / "tb"))


def rtl_files(names=RTL_FILES) -> list[Path]:
    return [rtl_dir() / n for n in names]


def run_block(config: str, seed: int = 0, simulator: str = "icarus", timeout_s: float = 1200.0,
              layers: int = 1) -> dict:
    """Simulate one whole block (or `layers` = 2 chained layers, the second one's weights loaded while the first
    computes); returns the testbench measurements plus `passed` and `reason`."""
    from verify.sim import simulate_cocotb

    cfg = CONFIGS[config]
    with tempfile.TemporaryDirectory(prefix="hwagent-qblock-") as tmp:
        out = Path(tmp) / "result.json"
        env = {"HWAGENT_QB_CONFIG": config, "HWAGENT_QB_SEED": str(seed), "HWAGENT_QB_OUT": str(out),
               "HWAGENT_QB_LAYERS": str(layers)}
        res = simulate_cocotb(rtl_files(), tb_dir() / "tb_qblock.py", "qblock_top", simulator=simulator,
                              parameters=rtl_parameters(cfg), timeout_s=timeout_s, extra_env=env,
                              run_root=os.environ.get("HWAGENT_SIM_ROOT"), writable=[tmp])
        data = json.loads(out.read_text()) if out.exists() else {}
    data.update(passed=res.passed, reason=res.reason, sim_wall_s=res.wall_s, simulator=simulator,
                messages=res.assertion_messages, log=None if res.passed else res.log_excerpt)
    return data


def run_unit(testbench: str, top: str, files: list[Path], parameters: dict | None = None,
             simulator: str = "icarus", timeout_s: float = 600.0, env: dict | None = None,
             trusted: list[Path] = ()):
    """Run one unit testbench (accelerator_baseline/tb/<testbench>.py) on `top`; returns verify's SimResult."""
    from verify.sim import simulate_cocotb

    return simulate_cocotb(files, tb_dir() / f"{testbench}.py", top, simulator=simulator,
                           parameters=parameters or {}, timeout_s=timeout_s, trusted=list(trusted),
                           extra_env=env, run_root=os.environ.get("HWAGENT_SIM_ROOT"))
