"""`--hf PATH`: a local HuggingFace-format checkpoint (config.json + pytorch_model.bin with HF weight names,
written here by hand, no download) supplies the real block weights to profiling and compression."""

import json

import pytest
import torch

from workloads.compress import compress
from workloads.config import resolve_model, with_overrides
from workloads.hf import CheckpointError
from workloads.profile import profile_model

HF_LLAMA = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
            "num_hidden_layers": 2, "intermediate_size": 96, "vocab_size": 100}


def write_llama(folder, drop=None, scale=0.5):
    torch.manual_seed(0)
    state = {}
    for i in range(2):
        p = f"model.layers.{i}."
        shapes = {"self_attn.q_proj": (64, 64), "self_attn.k_proj": (32, 64), "self_attn.v_proj": (32, 64),
                  "self_attn.o_proj": (64, 64), "mlp.gate_proj": (96, 64), "mlp.up_proj": (96, 64),
                  "mlp.down_proj": (64, 96)}
        for name, shape in shapes.items():
            state[p + name + ".weight"] = torch.randn(shape) * scale
        state[p + "input_layernorm.weight"] = torch.ones(64) * 2
        state[p + "post_attention_layernorm.weight"] = torch.ones(64)
    state.pop(drop, None)
    (folder / "config.json").write_text(json.dumps(HF_LLAMA))
    torch.save(state, folder / "pytorch_model.bin")
    return state


def test_checkpoint_weights_drive_ranges_and_compression(tmp_path):
    state = write_llama(tmp_path)
    cfg = with_overrides(resolve_model(str(tmp_path)), seq=16)
    assert cfg.checkpoint == str(tmp_path.resolve()) and cfg.hf_arch == "llama"
    prof = profile_model(cfg, calib_tokens=16)
    block = next(s for s in prof.phase("prefill").sections if s.kind == "block")
    q = next(layer for layer in block.layers if layer.name == "attn.q")
    assert q.ranges.w_absmax == pytest.approx(float(state["model.layers.0.self_attn.q_proj.weight"].abs().max()))
    out = compress(prof, bits_budget=6.0, calib_tokens=16, sweep=False)
    assert {u.block for u in out.bits_map} == {0, 1}  # both real layers, not random stand-ins
    assert out.proxies[0].cosine > 0.9


def test_incomplete_checkpoint_is_one_clear_error(tmp_path):
    write_llama(tmp_path, drop="model.layers.0.mlp.up_proj.weight")
    with pytest.raises(CheckpointError, match="missing model.layers.0.mlp.up_proj.weight"):
        profile_model(with_overrides(resolve_model(str(tmp_path)), seq=8), calib_tokens=8)


def test_cli_profile_hf(tmp_path):
    from typer.testing import CliRunner

    from hwagent.cli import app

    write_llama(tmp_path)
    res = CliRunner().invoke(app, ["profile", "--hf", str(tmp_path), "--seq", "8", "--calib-tokens", "8", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["config"]["hf_arch"] == "llama" and [p["name"] for p in data["phases"]] == ["prefill", "decode"]
    res = CliRunner().invoke(app, ["profile", "--hf", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no config.json" in res.output
