"""Run the baseline RTL in simulation (through verify.sim) and collect measurements.

`run_block(config)` simulates qblock_top on one configuration with the cocotb testbench in
accelerator_baseline/tb/tb_qblock.py and returns its JSON measurements (bit-exactness, block cycles, per-GEMM
feed windows). `run_inputs(qb, inputs)` runs a given quantised block (e.g. a trained model's) on many int8
inputs and returns the accelerator's outputs (tb/tb_inputs.py). `run_unit(module, top, params)` runs one of the
unit testbenches.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from importlib import resources
from pathlib import Path

from accelerator_baseline.golden import CONFIGS
from accelerator_baseline.hwmap import rtl_parameters
from verify.ports import defined_modules

RTL_FILES = ("pe.v", "systolic_array.v", "requant.v", "igelu.v", "vector_unit.v", "buffers.v", "qblock_top.v")


def rtl_dir() -> Path:
    return Path(str(resources.files("accelerator_baseline") / "rtl"))


def tb_dir() -> Path:
    return Path(str(resources.files("accelerator_baseline") / "tb"))


def rtl_files(names=RTL_FILES) -> list[Path]:
    return [rtl_dir() / n for n in names]


def run_block(config: str, seed: int = 0, simulator: str = "icarus", timeout_s: float = 1200.0,
              layers: int = 1, files: list[Path] | None = None) -> dict:
    """Simulate one whole block (or `layers` = 2 chained layers, the second one's weights loaded while the first
    computes); returns the testbench measurements plus `passed` and `reason`. `files` replaces the expert RTL
    (e.g. `substituted_files(design)`: the expert top with another implementation of one unit)."""
    from verify.sim import simulate_cocotb

    cfg = CONFIGS[config]
    with tempfile.TemporaryDirectory(prefix="hwagent-qblock-") as tmp:
        out = Path(tmp) / "result.json"
        env = {"HWAGENT_QB_CONFIG": config, "HWAGENT_QB_SEED": str(seed), "HWAGENT_QB_OUT": str(out),
               "HWAGENT_QB_LAYERS": str(layers)}
        res = simulate_cocotb(files or rtl_files(), tb_dir() / "tb_qblock.py", "qblock_top", simulator=simulator,
                              parameters=rtl_parameters(cfg), timeout_s=timeout_s, extra_env=env,
                              run_root=os.environ.get("HWAGENT_SIM_ROOT"), writable=[tmp])
        data = json.loads(out.read_text()) if out.exists() else {}
    data.update(passed=res.passed, reason=res.reason, sim_wall_s=res.wall_s, simulator=simulator,
                messages=res.assertion_messages, log=None if res.passed else res.log_excerpt)
    return data


def run_inputs(qb, inputs, simulator: str = "icarus", timeout_s: float = 3600.0) -> dict:
    """Simulate qblock_top running the QuantBlock `qb` on each int8 input [L, d]; returns `outputs` (int8
    [n, L, d] as nested lists, read back through the stream port), `block_cycles` per run, `passed`, `reason`
    and `sim_wall_s`."""
    from verify.sim import simulate_cocotb

    with tempfile.TemporaryDirectory(prefix="hwagent-qblock-") as tmp:
        case, out = Path(tmp) / "case.pkl", Path(tmp) / "result.json"
        case.write_bytes(pickle.dumps((qb, [x.astype("int64") for x in inputs])))
        res = simulate_cocotb(rtl_files(), tb_dir() / "tb_inputs.py", "qblock_top", simulator=simulator,
                              parameters=rtl_parameters(qb.cfg), timeout_s=timeout_s,
                              extra_env={"HWAGENT_QB_CASE": str(case), "HWAGENT_QB_OUT": str(out)},
                              run_root=os.environ.get("HWAGENT_SIM_ROOT"), writable=[tmp])
        data = json.loads(out.read_text()) if out.exists() else {"outputs": [], "block_cycles": []}
    data.update(passed=res.passed, reason=res.reason, sim_wall_s=res.wall_s, simulator=simulator,
                log=None if res.passed else res.log_excerpt)
    return data
def substituted_files(design: Path) -> list[Path]:
    """The expert RTL files with `design` in place of every file whose modules it all defines; ValueError when
    that would define a module twice or `design` replaces nothing."""
    modules = set(defined_modules(design.read_text()))
    kept, replaced = [], []
    for path in rtl_files():
        own = set(defined_modules(path.read_text()))
        if own <= modules:
            replaced.append(path.name)
        elif own & modules:
            raise ValueError(f"{design.name} defines {', '.join(sorted(own & modules))} but not every module of "
                             f"{path.name} ({', '.join(sorted(own))})")
        else:
            kept.append(path)
    if not replaced:
        raise ValueError(f"{design.name} defines none of the expert modules ({', '.join(sorted(modules))})")
    return [*kept, design]


def run_unit(testbench: str, top: str, files: list[Path], parameters: dict | None = None,
             simulator: str = "icarus", timeout_s: float = 600.0, env: dict | None = None,
             trusted: list[Path] = ()):
    """Run one unit testbench (accelerator_baseline/tb/<testbench>.py) on `top`; returns verify's SimResult."""
    from verify.sim import simulate_cocotb

    return simulate_cocotb(files, tb_dir() / f"{testbench}.py", top, simulator=simulator,
                           parameters=parameters or {}, timeout_s=timeout_s, trusted=list(trusted),
                           extra_env=env, run_root=os.environ.get("HWAGENT_SIM_ROOT"))
