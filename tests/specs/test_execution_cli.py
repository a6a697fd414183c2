"""`hwagent plan` and the execution plan `hwagent spec` writes: tables in full, files, one-line errors."""

import json

import pytest
from typer.testing import CliRunner

from hwagent.cli import app
from workloads.config import ModelConfig, StackConfig
from workloads.profile import profile_model

runner = CliRunner()


def _decoder(path, name, hidden, heads, kv, layers, mlp, seq=128):
    text = StackConfig(name="text", hidden=hidden, heads=heads, kv_heads=kv, layers=layers, mlp_dim=mlp,
                       mlp="swiglu", norm="rmsnorm", causal=True)
    prof = profile_model(ModelConfig(name=name, family="decoder", text=text, seq_len=seq, vocab=512),
                         with_ranges=False)
    path.write_text(prof.model_dump_json())
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan")
    budget = tmp / "budget.yaml"
    budget.write_text("pe_count: 64\nsram_kib: 64\noffchip_bytes_per_cycle: 8\nclock_mhz: 100\n")
    return {"target": _decoder(tmp / "t.json", "target", 256, 8, 2, 4, 768),
            "draft": _decoder(tmp / "d.json", "draft", 64, 4, 2, 2, 128), "budget": budget, "tmp": tmp}


def test_plan_prints_every_table_in_full_and_writes_json_and_markdown(files):
    out = files["tmp"] / "out"
    res = runner.invoke(app, ["plan", str(files["target"]), "--budget", str(files["budget"]), "--draft",
                              str(files["draft"]), "--gamma-max", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "execution.json").read_text())
    for title in ("decode, batch 1", "speculative decoding, draft draft", "cascade draft -> target",
                  "attention text.block (prefill)", "operator fusion (prefill)"):
        assert title in res.output
    assert "materialised does not fit" in res.output  # 128 x 128 int32 scores in two banks > 64 KiB
    assert f"{data['decode']['cycles']:,}" in res.output and f"{data['fusion_totals']['bytes_saved']:,}" in res.output
    assert "…" not in res.output  # rich never cut a cell
    assert len(data["speculative"]) == 2 and data["speculative_best"][0]["gamma"] >= 1
    markdown = (out / "execution.md").read_text()
    assert "**Materialised does not fit**" in markdown and "## Assumptions" in markdown


@pytest.mark.parametrize("args, message", [
    (["--alpha", "1.0"], "outside [0, 1)"),
    (["--alpha", "-0.1"], "outside [0, 1)"),
    (["--gamma-max", "0"], "at least 1"),
    (["--escalation", "2"], "escalation rate"),
    (["--alpha", "x"], "--alpha"),
])
def test_bad_speculation_input_is_one_error_line(files, args, message):
    res = runner.invoke(app, ["plan", str(files["target"]), "--budget", str(files["budget"]), "--draft",
                              str(files["draft"]), *args])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_draft_bigger_than_target_and_budget_without_sram(files):
    res = runner.invoke(app, ["plan", str(files["draft"]), "--budget", str(files["budget"]), "--draft",
                              str(files["target"])])
    assert res.exit_code == 2 and "bigger than the target" in res.output
    bad = files["tmp"] / "nosram.yaml"
    bad.write_text("pe_count: 64\noffchip_bytes_per_cycle: 8\nclock_mhz: 100\n")
    res = runner.invoke(app, ["plan", str(files["target"]), "--budget", str(bad)])
    assert res.exit_code == 2 and "sram_kib" in res.output and len(res.output.strip().splitlines()) == 1
    res = runner.invoke(app, ["plan", "no-such-model", "--budget", str(files["budget"])])
    assert res.exit_code == 2 and "no such file, preset" in res.output


def test_spec_writes_the_execution_plan_beside_the_units(files):
    out = files["tmp"] / "specs"
    res = runner.invoke(app, ["spec", str(files["draft"]), "--budget", str(files["budget"]), "--out", str(out),
                              "--vector-rows", "4", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)["execution"]
    plan = json.loads((out / "execution.json").read_text())
    assert summary["decode_tokens_per_s"] == plan["decode_tokens_per_s"] > 0
    assert summary["attention"][0]["chosen"] == plan["attention_summary"][0]["chosen"]
    assert (out / "execution.md").read_text().startswith("# Execution plan for `draft`")
