"""`hwagent profile` / `hwagent compress` on the command line (real runs, tiny settings)."""

import json

from typer.testing import CliRunner

from hwagent.cli import app

runner = CliRunner()


def test_profile_then_compress(tmp_path):
    prof = tmp_path / "p.json"
    res = runner.invoke(app, ["profile", "vit-tiny", "--image-size", "96", "--calib-tokens", "16", "--out", str(prof)])
    assert res.exit_code == 0, res.output
    assert "forward totals" in res.output and prof.is_file()
    out = tmp_path / "c.json"
    res = runner.invoke(app, ["compress", str(prof), "--bits-budget", "6", "--prune-mlp", "0.5", "--no-sweep",
                              "--calib-tokens", "16", "--proxy-depth", "2", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["pruning"][0]["mlp_dim"] == [768, 384] and json.loads(out.read_text())["bits_map"]


def test_bad_inputs_give_one_line_errors(tmp_path):
    res = runner.invoke(app, ["profile", "no-such-model"])
    assert res.exit_code == 2 and "unknown model" in res.output and "Traceback" not in res.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": 1}')
    res = runner.invoke(app, ["compress", str(bad)])
    assert res.exit_code == 2 and "not a profile file" in res.output
    res = runner.invoke(app, ["profile", "--list", "--json"])
    assert res.exit_code == 0 and "med-vlm" in json.loads(res.stdout)


def test_spec_from_profile_and_budget_errors(tmp_path):
    prof = tmp_path / "p.json"
    assert runner.invoke(app, ["profile", "deit-s", "--image-size", "64", "--calib-tokens", "16",
                               "--out", str(prof)]).exit_code == 0
    budget = tmp_path / "budget.yaml"
    budget.write_text("pe_count: 16\nsram_kib: 32\noffchip_bytes_per_cycle: 4\nclock_mhz: 100\n")
    res = runner.invoke(app, ["spec", str(prof), "--budget", str(budget), "--out", str(tmp_path / "specs"),
                              "--vector-rows", "4", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert [u["unit"] for u in summary["units"]] == ["gemm_engine", "requantiser", "softmax", "layernorm", "gelu",
                                                    "block_top"]
    assert (tmp_path / "specs" / "gemm_engine" / "spec.yaml").is_file()
    budget.write_text("pe_count: 16\nsram_kib: 32\nclock_mhz: 100\n")
    res = runner.invoke(app, ["spec", str(prof), "--budget", str(budget)])
    assert res.exit_code == 2 and "offchip_bytes_per_cycle" in res.output and "Traceback" not in res.output
    budget.write_text("pe_count: 4096\nsram_kib: 32\noffchip_bytes_per_cycle: 4\nclock_mhz: 100\narea_mm2: 1\n")
    res = runner.invoke(app, ["spec", str(prof), "--budget", str(budget)])
    assert res.exit_code == 2 and "area_mm2" in res.output
    budget.write_text("pe_count: 16\nsram_kib: 32\noffchip_bytes_per_cycle: 4\nclock_mhz: 100\n")
    res = runner.invoke(app, ["spec", str(budget), "--budget", str(budget)])
    assert res.exit_code == 2 and "not JSON" in res.output
