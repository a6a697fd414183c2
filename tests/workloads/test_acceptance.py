"""Measured acceptance rate of a draft on small real torch causal LMs (transformers Llama) built here."""

import json

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from typer.testing import CliRunner

from hwagent.cli import app
from workloads.acceptance import acceptance_of, measure_acceptance, sample_from
from workloads.hf import CheckpointError

VOCAB = 64


def tiny_lm(seed: int, layers: int = 2, hidden: int = 32) -> LlamaForCausalLM:
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      initializer_range=0.3)  # peaked next-token distributions
    torch.manual_seed(seed)
    return LlamaForCausalLM(cfg).eval()


@pytest.fixture(scope="module")
def sequences():
    target = tiny_lm(0)
    gen = torch.Generator().manual_seed(1)
    prompts = torch.randint(0, VOCAB, (4, 6), generator=gen)
    return target, sample_from(target, prompts, 10, VOCAB, 1.0, gen)


def test_identical_draft_is_always_accepted(sequences):
    target, ids = sequences
    alpha, greedy = acceptance_of(target, target, ids, 6, VOCAB)
    assert alpha == pytest.approx(1.0, abs=1e-9) and greedy == 1.0


def test_uniform_draft_acceptance_by_hand(sequences):
    target, ids = sequences
    draft = tiny_lm(0)
    with torch.no_grad():
        draft.lm_head.weight.zero_()  # q = 1/V everywhere
        p = torch.softmax(target(ids).logits[:, 5:-1].double(), dim=-1)
    expected = torch.clamp(p, max=1 / VOCAB).sum(-1).mean().item()
    alpha, _ = acceptance_of(target, draft, ids, 6, VOCAB)
    assert alpha == pytest.approx(expected, rel=1e-9) and 0 < alpha < 0.9


def test_plan_measures_alpha_from_two_checkpoints(tmp_path):
    tiny_lm(0, layers=3, hidden=64).save_pretrained(tmp_path / "target")
    tiny_lm(5, layers=1, hidden=32).save_pretrained(tmp_path / "draft")
    report = measure_acceptance(tmp_path / "target", tmp_path / "draft", samples=3)
    assert 0 < report.alpha < 1 and report.positions == 3 * 32 and report.vocab == VOCAB
    runner = CliRunner()
    for name in ("target", "draft"):
        res = runner.invoke(app, ["profile", "--hf", str(tmp_path / name), "--no-ranges",
                                  "--out", str(tmp_path / f"{name}.json")])
        assert res.exit_code == 0, res.output
    budget = tmp_path / "budget.yaml"
    budget.write_text("pe_count: 64\nsram_kib: 64\noffchip_bytes_per_cycle: 8\nclock_mhz: 100\n")
    res = runner.invoke(app, ["plan", str(tmp_path / "target.json"), "--budget", str(budget), "--draft",
                              str(tmp_path / "draft.json"), "--samples", "3", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    measured = [s for s in data["speculative"] if s["source"] == "measured"]
    assert measured[0]["alpha"] == pytest.approx(report.alpha) == data["acceptance"]["alpha"]
    with pytest.raises(CheckpointError, match="cannot load"):
        measure_acceptance(tmp_path, tmp_path / "draft")
