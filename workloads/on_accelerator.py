"""Task accuracy through the expert accelerator: a trained workload's encoder block on the RTL.

The trained block (workloads.tasks) is quantised with the golden model's recipe (`golden.quantize_block`:
per-tensor int8, max-abs scales calibrated on training inputs), the held-out inputs are quantised at the
block's input scale, and each block output (int8) is dequantised and fed to the float head. Accuracy is
reported from three sources on the same inputs: the float model, the integer golden model, and the
accelerator RTL (qblock_top simulated by Icarus through `accelerator_baseline.sim.run_inputs`); the RTL
outputs must equal the golden model's bit for bit. RTL runs are cached by RTL digest, block and inputs.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable

import numpy as np
import torch

from accelerator_baseline import golden as G
from workloads import tasks

CALIB_SAMPLES = 256


def block_config(name: str, index: int = 0) -> G.BlockConfig:
    stack = tasks.CONFIGS[name].vision or tasks.CONFIGS[name].text
    tokens = tasks.CONFIGS[name].stem.tokens if tasks.CONFIGS[name].stem else tasks.CONFIGS[name].seq_len
    return G.BlockConfig(f"{name}.block{index}", tokens=tokens, d_model=stack.hidden, heads=stack.heads,
                         d_ff=stack.mlp_dim)


def quantized_block(name: str) -> G.QuantBlock:
    """The trained first encoder block, quantised by the golden model's recipe on training inputs."""
    model = tasks.load_trained(name).model
    if len(model.blocks) != 1:
        raise ValueError(f"{name}: only single-block workloads run on the accelerator here")
    cfg = block_config(name)
    cfg.check_rtl()
    fb = G.FloatBlock(cfg, **tasks.block_weights(model.blocks[0]))
    return G.quantize_block(fb, tasks.block_inputs(name, "train", CALIB_SAMPLES).double().numpy())


def _head_predictions(name: str, y_int: np.ndarray, scale: float) -> np.ndarray:
    model = tasks.load_trained(name).model
    with torch.no_grad():
        return model.classify(torch.tensor(y_int * scale, dtype=torch.float32)).argmax(-1).numpy()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return float(np.mean(np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-30)))


def _rtl_outputs(qb: G.QuantBlock, xs: np.ndarray, simulate: bool) -> dict | None:
    """RTL outputs for the int8 inputs `xs` (cached by RTL digest, block and inputs; `from_cache` says which)."""
    from accelerator_baseline.report import rtl_digest
    from accelerator_baseline.sim import run_inputs, tb_dir
    from verify.paths import cache_dir

    testbench = (tb_dir() / "tb_inputs.py").read_bytes()
    key = hashlib.sha256(pickle.dumps((qb, xs.tobytes(), rtl_digest(), testbench))).hexdigest()[:16]
    path = cache_dir("baseline") / f"inputs-{qb.cfg.name}-{len(xs)}-{key}.json"
    if path.is_file():
        return {**json.loads(path.read_text()), "from_cache": True}
    if not simulate:
        return None
    data = run_inputs(qb, list(xs))
    if data["passed"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    return {**data, "from_cache": False}


def accuracy_report(name: str, samples: int | None = 32, simulate: bool = True,
                    progress: Callable[[str], None] = lambda _msg: None) -> dict:
    """Held-out accuracy of the float model, the int8 golden model (all held-out inputs) and the accelerator
    RTL (the first `samples` held-out inputs; None = all), and how the integer block differs from float."""
    progress(f"{name}: loading (training if not cached) the model")
    trained = tasks.load_trained(name)
    split, model = trained.split, trained.model
    progress(f"{name}: quantising the encoder block (golden model recipe)")
    qb = quantized_block(name)
    x_float = tasks.block_inputs(name, "test").double().numpy()
    labels = split.y_test.numpy()
    with torch.no_grad():
        float_out = model.encode(torch.tensor(x_float, dtype=torch.float32)).double().numpy()
        float_pred = model(split.x_test).argmax(-1).numpy()
    progress(f"{name}: integer golden model on {len(labels)} held-out inputs")
    x_int = np.stack([G.quantize_input(qb, x) for x in x_float])
    golden_y = np.stack([G.golden_block(qb, x).y for x in x_int])
    golden_pred = _head_predictions(name, golden_y, qb.scales.y)
    n = len(labels) if samples is None else min(samples, len(labels))
    report = {
        "workload": name, "block": {"tokens": qb.cfg.tokens, "d_model": qb.cfg.d_model, "heads": qb.cfg.heads,
                                     "d_ff": qb.cfg.d_ff, "array": f"{qb.cfg.array_rows}x{qb.cfg.array_cols}"},
        "held_out": len(labels), "train_seconds": trained.train_seconds, "train_accuracy": trained.train_accuracy,
        "calibration_samples": min(CALIB_SAMPLES, len(split.y_train)),
        "float_accuracy": float(np.mean(float_pred == labels)),
        "golden_accuracy": float(np.mean(golden_pred == labels)),
        "golden_float_prediction_agreement": float(np.mean(golden_pred == float_pred)),
        "golden_vs_float_block_cosine": _cosine(golden_y * qb.scales.y, float_out),
        "rtl_samples": n,
    }
    progress(f"{name}: accelerator RTL on {n} held-out inputs (Icarus; cached after the first run)")
    rtl = _rtl_outputs(qb, x_int[:n], simulate)
    if rtl is None:
        report["rtl"] = {"error": "not simulated (no cached run)"}
        return report
    if not rtl["passed"] or len(rtl["outputs"]) != n:
        report["rtl"] = {"error": f"simulation failed: {rtl.get('reason')}", "log": rtl.get("log")}
        return report
    rtl_y = np.asarray(rtl["outputs"], dtype=np.int64)
    rtl_pred = _head_predictions(name, rtl_y, qb.scales.y)
    report["rtl"] = {
        "accuracy": float(np.mean(rtl_pred == labels[:n])),
        "golden_accuracy_same_inputs": float(np.mean(golden_pred[:n] == labels[:n])),
        "float_accuracy_same_inputs": float(np.mean(float_pred[:n] == labels[:n])),
        "bit_exact": bool(np.array_equal(rtl_y, golden_y[:n])),
        "mismatching_outputs": int(np.sum(rtl_y != golden_y[:n])), "outputs_checked": int(rtl_y.size),
        "block_cycles": rtl["block_cycles"][0] if rtl["block_cycles"] else None,
        "sim_wall_s": rtl["sim_wall_s"], "from_cache": rtl["from_cache"],
    }
    return report
