"""Real weights from a local HuggingFace checkpoint directory for the profiled blocks (no download, no
`transformers` needed): `pytorch_model.bin` (torch) or `model.safetensors` (needs the `safetensors`
package), single files or sharded with their `*.index.json`. Names are mapped per architecture onto the
blocks of workloads.modules, so activation ranges and compression sensitivities use the real weights.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import torch

# our name -> HF name (without the layer prefix); ".weight" / ".bias" are appended
_LLAMA = {"attn.q": "self_attn.q_proj", "attn.k": "self_attn.k_proj", "attn.v": "self_attn.v_proj",
          "attn.o": "self_attn.o_proj", "mlp.gate": "mlp.gate_proj", "mlp.up": "mlp.up_proj",
          "mlp.down": "mlp.down_proj", "norm1": "input_layernorm", "norm2": "post_attention_layernorm"}
_BERT = {"attn.q": "attention.self.query", "attn.k": "attention.self.key", "attn.v": "attention.self.value",
         "attn.o": "attention.output.dense", "norm1": "attention.output.LayerNorm", "mlp.fc1": "intermediate.dense",
         "mlp.fc2": "output.dense", "norm2": "output.LayerNorm"}
_VIT = {"attn.q": "attention.attention.query", "attn.k": "attention.attention.key",
        "attn.v": "attention.attention.value", "attn.o": "attention.output.dense", "norm1": "layernorm_before",
        "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense", "norm2": "layernorm_after"}
ARCHS = {
    "llama": (_LLAMA, ("model.layers.{i}.", "layers.{i}.")),
    "mistral": (_LLAMA, ("model.layers.{i}.", "layers.{i}.")),
    "qwen2": (_LLAMA, ("model.layers.{i}.", "layers.{i}.")),
    "qwen3": (_LLAMA, ("model.layers.{i}.", "layers.{i}.")),
    "bert": (_BERT, ("bert.encoder.layer.{i}.", "encoder.layer.{i}.")),
    "roberta": (_BERT, ("roberta.encoder.layer.{i}.", "encoder.layer.{i}.")),
    "vit": (_VIT, ("vit.encoder.layer.{i}.", "encoder.layer.{i}.")),
    "deit": (_VIT, ("deit.encoder.layer.{i}.", "encoder.layer.{i}.")),
}


class CheckpointError(ValueError):
    """A checkpoint that cannot supply the weights of a block; one line."""


def _weight_files(folder: Path) -> list[Path]:
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        index = folder / index_name
        if index.is_file():
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            return [folder / shard for shard in shards]
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return [folder / name]
    return []


def _load_file(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise CheckpointError(f"{path.name} needs the `safetensors` package (pip install safetensors)") from None
        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


@cache
def _state(folder: str) -> dict[str, torch.Tensor]:
    files = _weight_files(Path(folder))
    state: dict[str, torch.Tensor] = {}
    for file in files:
        state.update(_load_file(file))
    return state


def has_weights(folder: str | Path) -> bool:
    return bool(_weight_files(Path(folder)))


def block_state(folder: str | Path, arch: str, index: int, names: list[str]) -> dict[str, torch.Tensor]:
    """The state dict of our block `index` (keys like `attn.q.weight`) read from the checkpoint."""
    if arch not in ARCHS:
        raise CheckpointError(f"no weight mapping for model_type {arch!r} ({', '.join(ARCHS)})")
    table, prefixes = ARCHS[arch]
    state = _state(str(Path(folder).resolve()))
    prefix = next((p.format(i=index) for p in prefixes
                   if any(k.startswith(p.format(i=index)) for k in state)), None)
    if prefix is None:
        raise CheckpointError(f"{folder}: no weights for layer {index}")
    out = {}
    for name in names:
        module, _, kind = name.rpartition(".")
        key = f"{prefix}{table.get(module, module)}.{kind}"
        if key not in state:
            raise CheckpointError(f"{folder}: missing {key}")
        out[name] = state[key].float()
    return out
