"""Profiling: shapes and MACs against closed-form counts, hook ranges, phases, overrides, HF config mapping."""

import json

import pytest

from workloads.config import PRESETS, load_hf_config, resolve_model, with_overrides
from workloads.profile import ModelProfile, profile_model


def _block(profile: ModelProfile, phase: str, stack: str):
    return next(s for s in profile.phase(phase).sections if s.kind == "block" and s.stack == stack)


def encoder_block_macs(tokens: int, d: int, mlp: int, heads: int) -> int:
    return tokens * (4 * d * d + 2 * d * mlp) + 2 * tokens * tokens * d  # + QK^T and PV over all heads


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_profiles_shapes_only(name):
    prof = profile_model(PRESETS[name], with_ranges=False)
    for phase in prof.phases:
        assert phase.totals.macs > 0 and phase.totals.params > 0
        for section in phase.sections:
            for layer in section.layers:
                assert layer.macs == layer.m * layer.n * layer.k * layer.count


def test_vit_tiny_matches_closed_form_and_has_ranges():
    prof = profile_model(PRESETS["vit-tiny"], calib_tokens=64)
    block = _block(prof, "forward", "vision")
    assert block.repeat == 12 and block.tokens == 197
    assert block.totals.macs == encoder_block_macs(197, 192, 768, 3)
    qk = next(layer for layer in block.layers if layer.name == "attn.qk")
    assert (qk.m, qk.n, qk.k, qk.count) == (197, 197, 64, 3)
    softmax = next(layer for layer in block.layers if layer.op == "softmax")
    assert softmax.out_elems == 3 * 197 * 197 and softmax.row_len == 197
    assert softmax.ranges is not None and 0 <= softmax.ranges.out_min <= softmax.ranges.out_max <= 1
    fc1 = next(layer for layer in block.layers if layer.name == "mlp.fc1")
    assert fc1.ranges.out_absmax >= fc1.ranges.out_p999 > 0
    # whole model: ~1.26 GMAC is the published ViT-Ti/16 figure
    assert 1.2e9 < prof.phase("forward").totals.macs < 1.3e9


def test_decoder_prefill_and_decode_phases():
    cfg = with_overrides(PRESETS["coder-1.5b"], seq=64)
    prof = profile_model(cfg, with_ranges=False)
    prefill, decode = _block(prof, "prefill", "text"), _block(prof, "decode", "text")
    q = next(layer for layer in prefill.layers if layer.name == "attn.q")
    k = next(layer for layer in prefill.layers if layer.name == "attn.k")
    assert (q.m, q.n, q.k) == (64, 1536, 1536) and k.n == 2 * 128  # grouped-query attention: 2 KV heads
    dq = next(layer for layer in decode.layers if layer.name == "attn.qk")
    assert (dq.m, dq.n, dq.count) == (1, 65, 12)  # one new token attends to 64 cached + itself
    assert decode.totals.kv_cache_elems == 2 * 2 * 128 * 65
    assert 1.4e9 < prof.phase("decode").totals.params < 1.9e9


def test_vlm_sections_and_overrides():
    cfg = with_overrides(PRESETS["med-vlm"], seq=16, image_size=224)
    prof = profile_model(cfg, with_ranges=False)
    names = [s.name for s in prof.phase("prefill").sections]
    assert names == ["stem", "vision.block", "projector", "embed", "text.block", "head"]
    assert _block(prof, "prefill", "text").tokens == 16 * 16 + 16  # image tokens (no CLS) + text
    with pytest.raises(ValueError, match="larger than image_size"):
        with_overrides(PRESETS["vit-tiny"], patch=300)
    with pytest.raises(ValueError, match="vision models only"):
        with_overrides(PRESETS["bert-base"], image_size=224)


def test_profile_json_round_trip(tmp_path):
    prof = profile_model(PRESETS["deit-s"], calib_tokens=32)
    path = tmp_path / "p.json"
    path.write_text(prof.model_dump_json())
    again = ModelProfile.model_validate(json.loads(path.read_text()))
    assert again.phase("forward").totals == prof.phase("forward").totals


def test_local_hf_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "llama", "hidden_size": 256, "num_attention_heads": 8, "num_key_value_heads": 2,
        "num_hidden_layers": 3, "intermediate_size": 688, "vocab_size": 1000}))
    cfg = resolve_model(str(tmp_path))
    assert cfg.family == "decoder" and cfg.text.mlp == "swiglu" and cfg.text.n_kv_heads == 2
    prof = profile_model(with_overrides(cfg, seq=16), calib_tokens=16)
    assert _block(prof, "prefill", "text").layers[1].ranges is not None
    softmax = next(layer for layer in _block(prof, "prefill", "text").layers if layer.op == "softmax")
    assert 0 < softmax.ranges.in_absmax < float("inf")  # the causal mask's -inf is not a range
    assert ModelProfile.model_validate_json(prof.model_dump_json()) == prof
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5"}))
    with pytest.raises(ValueError, match="not supported"):
        load_hf_config(tmp_path)
