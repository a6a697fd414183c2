"""Model shape configs: built-in presets (random weights, no downloads) and local HuggingFace config.json files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class StackConfig(BaseModel):
    """A stack of identical transformer blocks."""

    name: str
    hidden: int = Field(gt=0)
    heads: int = Field(gt=0)
    kv_heads: int | None = None
    layers: int = Field(gt=0)
    mlp_dim: int = Field(gt=0)
    mlp: Literal["gelu", "swiglu"] = "gelu"
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"
    norm_position: Literal["pre", "post"] = "pre"
    causal: bool = False
    qkv_bias: bool = True
    head_dim_override: int | None = Field(default=None, gt=0, description="set when heads were pruned")

    @model_validator(mode="after")
    def _heads_divide(self) -> StackConfig:
        if self.head_dim_override is None and self.hidden % self.heads:
            raise ValueError(f"{self.name}.hidden={self.hidden} is not a multiple of heads={self.heads}")
        if self.kv_heads is not None and self.heads % self.kv_heads:
            raise ValueError(f"{self.name}.heads={self.heads} is not a multiple of kv_heads={self.kv_heads}")
        return self

    @property
    def head_dim(self) -> int:
        return self.head_dim_override or self.hidden // self.heads

    @property
    def n_kv_heads(self) -> int:
        return self.kv_heads or self.heads


class VisionStem(BaseModel):
    """Patch embedding of an image into tokens."""

    image_size: int = Field(gt=0)
    patch: int = Field(gt=0)
    stride: int | None = None
    channels: int = 3
    cls_token: bool = True

    @property
    def patch_stride(self) -> int:
        return self.stride or self.patch

    @property
    def grid(self) -> int:
        if self.patch > self.image_size:
            raise ValueError(f"patch={self.patch} is larger than image_size={self.image_size}")
        return (self.image_size - self.patch) // self.patch_stride + 1

    @property
    def tokens(self) -> int:
        return self.grid**2 + (1 if self.cls_token else 0)


class ModelConfig(BaseModel):
    """A whole model: optional vision stem + vision stack, optional projector, optional text stack."""

    name: str
    family: Literal["vit", "encoder", "decoder", "vlm"]
    stem: VisionStem | None = None
    vision: StackConfig | None = None
    projector_dims: list[int] | None = None
    text: StackConfig | None = None
    seq_len: int = 128
    vocab: int = 0
    num_classes: int = 1000
    checkpoint: str | None = None  # local HF checkpoint directory whose block weights are loaded
    hf_arch: str | None = None  # its model_type (selects the weight-name mapping)
    trained: str | None = None  # a trained workload of workloads.tasks whose weights and data are used

    @model_validator(mode="after")
    def _parts_present(self) -> ModelConfig:
        needs = {"vit": ("stem", "vision"), "encoder": ("text",), "decoder": ("text",),
                 "vlm": ("stem", "vision", "projector_dims", "text")}[self.family]
        for part in needs:
            if getattr(self, part) is None:
                raise ValueError(f"family {self.family!r} needs field {part!r}")
        return self

    @property
    def image_tokens(self) -> int:
        """Tokens the vision tower hands to the decoder (VLMs drop the class token, as LLaVA does)."""
        if self.stem is None:
            return 0
        return self.stem.grid**2 if self.family == "vlm" else self.stem.tokens

    @property
    def text_context(self) -> int:
        """Decoder context length in prefill: image tokens (VLM) plus text tokens."""
        return self.seq_len + (self.image_tokens if self.family == "vlm" else 0)


def _vit(name: str, hidden: int, heads: int, layers: int, mlp: int, image: int = 224, patch: int = 16) -> ModelConfig:
    return ModelConfig(name=name, family="vit", stem=VisionStem(image_size=image, patch=patch),
                       vision=StackConfig(name="vision", hidden=hidden, heads=heads, layers=layers, mlp_dim=mlp))


def _llama(name: str, hidden: int, heads: int, kv: int, layers: int, mlp: int, qkv_bias: bool) -> StackConfig:
    return StackConfig(name=name, hidden=hidden, heads=heads, kv_heads=kv, layers=layers, mlp_dim=mlp, mlp="swiglu",
                       norm="rmsnorm", causal=True, qkv_bias=qkv_bias)


PRESETS: dict[str, ModelConfig] = {
    "vit-tiny": _vit("vit-tiny", 192, 3, 12, 768),
    "vit-b16": _vit("vit-b16", 768, 12, 12, 3072),
    "deit-s": _vit("deit-s", 384, 6, 12, 1536),
    # LLaVA-Med-like: CLIP ViT-L/14 @ 336 vision tower, 2-layer GELU projector, LLaMA-7B-class decoder.
    "med-vlm": ModelConfig(
        name="med-vlm", family="vlm", stem=VisionStem(image_size=336, patch=14),
        vision=StackConfig(name="vision", hidden=1024, heads=16, layers=24, mlp_dim=4096),
        projector_dims=[1024, 4096, 4096],
        text=_llama("text", 4096, 32, 32, 32, 11008, qkv_bias=False), seq_len=128, vocab=32000),
    # Qwen2.5-Coder-like decoders (grouped-query attention).
    "coder-1.5b": ModelConfig(name="coder-1.5b", family="decoder", seq_len=512, vocab=151936,
                              text=_llama("text", 1536, 12, 2, 28, 8960, qkv_bias=True)),
    "coder-7b": ModelConfig(name="coder-7b", family="decoder", seq_len=512, vocab=152064,
                            text=_llama("text", 3584, 28, 4, 28, 18944, qkv_bias=True)),
    "bert-base": ModelConfig(name="bert-base", family="encoder", seq_len=128, vocab=30522,
                             text=StackConfig(name="text", hidden=768, heads=12, layers=12, mlp_dim=3072,
                                              norm_position="post")),
}


def _trained_block(name: str) -> StackConfig:
    return StackConfig(name=name, hidden=32, heads=2, layers=1, mlp_dim=64, norm_position="post")


# Trained on real data (workloads.tasks): every block size a multiple of the baseline's 16 x 16 array.
PRESETS["digits-vit"] = ModelConfig(name="digits-vit", family="vit", num_classes=10, trained="digits-vit",
                                    stem=VisionStem(image_size=8, patch=2, channels=1, cls_token=False),
                                    vision=_trained_block("vision"))
PRESETS["cancer-tab"] = ModelConfig(name="cancer-tab", family="encoder", num_classes=2, trained="cancer-tab",
                                    seq_len=32, text=_trained_block("text"))


def with_overrides(cfg: ModelConfig, seq: int | None = None, image_size: int | None = None,
                   patch: int | None = None, stride: int | None = None) -> ModelConfig:
    """A copy of `cfg` with a new sequence length and/or image geometry (validated)."""
    data = cfg.model_dump()
    if seq is not None:
        data["seq_len"] = seq
    for key, value in (("image_size", image_size), ("patch", patch), ("stride", stride)):
        if value is not None:
            if data["stem"] is None:
                raise ValueError(f"--{key.replace('_', '-')} applies to vision models only ({cfg.name} has no image input)")
            data["stem"][key] = value
    new = ModelConfig.model_validate(data)
    if new.stem is not None:
        _ = new.stem.grid  # raises on an impossible geometry
    return new


def _hf_stack(name: str, hf: dict, causal: bool) -> StackConfig:
    arch = hf.get("model_type", "")
    llama_like = arch in {"llama", "mistral", "qwen2", "qwen3", "gemma", "phi3"}
    return StackConfig(
        name=name, hidden=hf["hidden_size"], heads=hf["num_attention_heads"],
        kv_heads=hf.get("num_key_value_heads"), layers=hf["num_hidden_layers"], mlp_dim=hf["intermediate_size"],
        mlp="swiglu" if llama_like else "gelu", norm="rmsnorm" if llama_like else "layernorm",
        norm_position="post" if arch in {"bert", "roberta"} else "pre", causal=causal,
        qkv_bias=bool(hf.get("attention_bias", arch in {"qwen2"} or not llama_like)))


def load_hf_config(path: str | Path) -> ModelConfig:
    """Map a local HuggingFace checkpoint directory's config.json onto a ModelConfig (no download)."""
    cfg_file = Path(path) / "config.json" if Path(path).is_dir() else Path(path)
    if not cfg_file.is_file():
        raise ValueError(f"no config.json at {path}")
    try:
        hf = json.loads(cfg_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{cfg_file}: not a JSON config ({exc})") from None
    if not isinstance(hf, dict):
        raise ValueError(f"{cfg_file}: config.json must hold a JSON object, got {type(hf).__name__}")
    try:
        cfg = _from_hf(hf, Path(path).resolve().name if Path(path).is_dir() else cfg_file.stem)
    except KeyError as exc:
        raise ValueError(f"{cfg_file}: config.json lacks the key {exc} its model_type needs") from None
    except (TypeError, AttributeError) as exc:
        raise ValueError(f"{cfg_file}: config.json has a value of the wrong type ({exc})") from None
    from workloads.hf import has_weights

    if has_weights(cfg_file.parent):
        cfg = cfg.model_copy(update={"checkpoint": str(cfg_file.parent.resolve()), "hf_arch": hf.get("model_type")})
    return cfg


def _from_hf(hf: dict, name: str) -> ModelConfig:
    arch = hf.get("model_type", "")
    if arch in {"vit", "deit", "clip_vision_model"}:
        stem = VisionStem(image_size=hf.get("image_size", 224), patch=hf.get("patch_size", 16),
                          channels=hf.get("num_channels", 3))
        return ModelConfig(name=name, family="vit", stem=stem, vision=_hf_stack("vision", hf, causal=False),
                           num_classes=len(hf.get("id2label", {})) or 1000)
    if arch in {"bert", "roberta"}:
        return ModelConfig(name=name, family="encoder", vocab=hf.get("vocab_size", 0),
                           seq_len=min(128, hf.get("max_position_embeddings", 128)),
                           text=_hf_stack("text", hf, causal=False))
    if arch in {"llama", "mistral", "qwen2", "qwen3", "gemma", "phi3"}:
        return ModelConfig(name=name, family="decoder", vocab=hf.get("vocab_size", 0), seq_len=512,
                           text=_hf_stack("text", hf, causal=True))
    raise ValueError(f"config.json model_type={arch!r} is not supported (vit, deit, clip_vision_model, bert, "
                     "roberta, llama, mistral, qwen2, qwen3, gemma, phi3)")


def resolve_model(model: str) -> ModelConfig:
    """A preset name or a local checkpoint directory / config.json path."""
    if model in PRESETS:
        return PRESETS[model]
    if Path(model).exists():
        return load_hf_config(model)
    raise ValueError(f"unknown model {model!r}: choose a preset ({', '.join(PRESETS)}) or pass a local "
                     "HuggingFace checkpoint directory")
