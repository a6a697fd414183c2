"""Trained workloads on real data: training floors, compression + fine-tuning recovery, the accelerator's own
outputs equal to the golden model's, and the CLI around them. Real training (CPU, seconds), real Icarus runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from hwagent.cli import app
from workloads import on_accelerator, tasks
from workloads.compress import compress
from workloads.config import PRESETS
from workloads.profile import profile_model
from workloads.task_accuracy import rank_correlation

# Measured: digits-vit 96.4 %, cancer-tab 95.1 % held-out (seeded); the floors leave room for other torch builds.
FLOORS = {"digits-vit": 0.93, "cancer-tab": 0.92}
runner = CliRunner()


@pytest.fixture(autouse=True)
def _shared_weights(tmp_path_factory, monkeypatch):
    """One trained-weights cache for the tests of this module (each test would otherwise train again)."""
    monkeypatch.setenv("HWAGENT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "trained-workloads"))


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_training_reaches_the_floor_on_held_out_data(name):
    trained = tasks.load_trained(name)
    assert trained.float_accuracy >= FLOORS[name]
    assert len(trained.split.y_test) == {"digits-vit": 450, "cancer-tab": 143}[name]
    # the encoder block fits the expert baseline: every size a multiple of its 16 x 16 array
    on_accelerator.block_config(name).check_rtl()


def test_weights_are_cached_and_reloaded_identically(monkeypatch):
    first = tasks.load_trained("cancer-tab")
    monkeypatch.setattr(tasks, "_LOADED", {})
    again = tasks.load_trained("cancer-tab")
    assert again.cached and again.float_accuracy == first.float_accuracy
    for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy())


def test_compression_loses_accuracy_and_fine_tuning_wins_back_at_least_half():
    prof = profile_model(PRESETS["digits-vit"])
    result = compress(prof, bits_budget=4, prune_heads=1, prune_mlp=0.5, sweep=False, finetune_steps=200)
    acc = result.task_accuracy
    assert acc.float_accuracy - acc.compressed_accuracy >= 0.05  # the compression is lossy enough to measure
    assert acc.recovered >= 0.5
    assert acc.pruned_finetuned_accuracy > acc.pruned_accuracy
    assert result.proxies[0].cosine < 0.99


def test_token_sweep_on_digits_uses_real_accuracy():
    prof = profile_model(PRESETS["digits-vit"], with_ranges=False)
    sweep = compress(prof, bits_budget=8).sweep
    full = next(p for p in sweep.points if p.image_size == 8)
    assert full.accuracy == pytest.approx(tasks.load_trained("digits-vit").float_accuracy)
    assert all(p.accuracy is not None and p.tokens < full.tokens for p in sweep.points if p is not full)


def test_accelerator_outputs_equal_the_golden_model_bit_for_bit():
    rep = on_accelerator.accuracy_report("digits-vit", samples=2)
    rtl = rep["rtl"]
    assert rtl["bit_exact"] and rtl["mismatching_outputs"] == 0 and rtl["outputs_checked"] == 2 * 16 * 32
    assert rtl["accuracy"] == rtl["golden_accuracy_same_inputs"]
    assert rep["golden_accuracy"] >= FLOORS["digits-vit"] - 0.02  # integer-only inference stays close to float
    assert rtl["block_cycles"] == 1465  # the tiny16 shape: the cycle model's and the simulated count
    res = runner.invoke(app, ["baseline", "report", "--workload", "digits-vit", "--samples", "2", "--no-sim"])
    assert res.exit_code == 0, res.output
    assert "accelerator RTL" in res.output and "bit-exact True" in res.output and "cached" in res.output


def test_rank_correlation():
    assert rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert rank_correlation([1, 2, 2, 3], [1, 1, 1, 1]) is None


def test_cli_compress_finetune_and_errors(tmp_path):
    prof = tmp_path / "p.json"
    assert runner.invoke(app, ["profile", "cancer-tab", "--out", str(prof)]).exit_code == 0
    res = runner.invoke(app, ["compress", str(prof), "--bits-budget", "4", "--finetune", "20", "--json"])
    assert res.exit_code == 0, res.output
    acc = json.loads(res.stdout)["task_accuracy"]
    assert acc["finetune_steps"] == 20 and acc["compressed_finetuned_accuracy"] is not None
    assert runner.invoke(app, ["compress", str(prof), "--finetune", "-3"]).exit_code == 2
    random_prof = tmp_path / "r.json"
    assert runner.invoke(app, ["profile", "vit-tiny", "--no-ranges", "--out", str(random_prof)]).exit_code == 0
    res = runner.invoke(app, ["compress", str(random_prof), "--finetune", "5"])
    assert res.exit_code == 2 and "trained workload" in res.output
    res = runner.invoke(app, ["baseline", "report", "--workload", "no-such"])
    assert res.exit_code == 2 and "unknown workload" in res.output
