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
