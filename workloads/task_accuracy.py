"""Real held-out accuracy of a compressed trained workload, before and after fine-tuning.

A compressed model is the trained model with its encoder blocks replaced by the pruned blocks and every
block linear fake-quantised as in the accuracy proxy (per-channel weights at the bit map's width, per-tensor
int8 activations at every linear input). Fine-tuning (`steps` > 0) trains the whole model on the training
split: the pruned float model (recovery after pruning), and the compressed model with straight-through fake
quantisation (quantisation-aware training: the forward pass quantises, the gradient passes through).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from pydantic import BaseModel
from torch import nn

from workloads import tasks
from workloads.fakequant import ACT_BITS, quantize_act, quantize_weight

FINETUNE_LR = 1e-3


class TaskAccuracy(BaseModel):
    workload: str
    held_out: int
    float_accuracy: float          # the trained model, unpruned, float
    pruned_accuracy: float         # pruned, float weights and activations
    compressed_accuracy: float     # pruned + mixed-precision weights + int8 activations
    finetune_steps: int = 0
    pruned_finetuned_accuracy: float | None = None
    compressed_finetuned_accuracy: float | None = None  # quantisation-aware fine-tuning

    @property
    def recovered(self) -> float | None:
        """Share of the accuracy lost to compression that fine-tuning won back (None without a loss)."""
        lost = self.float_accuracy - self.compressed_accuracy
        if self.compressed_finetuned_accuracy is None or lost <= 0:
            return None
        return (self.compressed_finetuned_accuracy - self.compressed_accuracy) / lost


class FakeQuantLinear(nn.Module):
    """A linear whose weight (per-channel, `bits`) and input (per-tensor, `act_bits`) are fake-quantised with a
    straight-through gradient."""

    def __init__(self, linear: nn.Linear, bits: int, act_bits: int = ACT_BITS):
        super().__init__()
        self.weight, self.bias, self.bits, self.act_bits = linear.weight, linear.bias, bits, act_bits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight + (quantize_weight(self.weight, self.bits) - self.weight).detach()
        x = x + (quantize_act(x, self.act_bits) - x).detach()
        return nn.functional.linear(x, w, self.bias)


def _fake_quantised(block: nn.Module, bits: dict[str, int]) -> nn.Module:
    block = copy.deepcopy(block)
    for name, b in bits.items():
        parent_name, _, child = name.rpartition(".")
        parent = block.get_submodule(parent_name) if parent_name else block
        setattr(parent, child, FakeQuantLinear(getattr(parent, child), b))
    return block


def compressed_model(name: str, blocks: list[nn.Module], bit_maps: list[dict[str, int]] | None) -> tasks.TaskModel:
    """The trained model with `blocks` (pruned) in place of its own, fake-quantised by `bit_maps` if given."""
    model = copy.deepcopy(tasks.load_trained(name).model)
    depth = len(model.blocks)
    new = [copy.deepcopy(blocks[i % len(blocks)]) for i in range(depth)]
    if bit_maps is not None:
        new = [_fake_quantised(b, bit_maps[i % len(bit_maps)]) for i, b in enumerate(new)]
    model.blocks = nn.ModuleList(new)
    return model.eval()


def finetune(model: tasks.TaskModel, name: str, steps: int) -> tasks.TaskModel:
    """Fine-tune a copy of `model` for `steps` steps on the training split (seeded)."""
    model = copy.deepcopy(model)
    recipe = tasks.RECIPES[name]
    tasks.train(model, tasks.load_trained(name).split,
                tasks.TrainRecipe(steps=steps, batch=recipe.batch, lr=FINETUNE_LR, seed=recipe.seed + 1))
    return model


def held_out_accuracy(name: str, model: nn.Module) -> float:
    split = tasks.load_trained(name).split
    with tasks.single_thread():
        return tasks.accuracy(model, split.x_test, split.y_test)


def evaluate(name: str, blocks: list[nn.Module], bit_maps: list[dict[str, int]], finetune_steps: int = 0,
             progress: Callable[[str], None] = lambda _msg: None) -> TaskAccuracy:
    """Held-out accuracy of the float, pruned and compressed model (and of both after `finetune_steps`)."""
    trained = tasks.load_trained(name)
    pruned = compressed_model(name, blocks, None)
    compressed = compressed_model(name, blocks, bit_maps)
    result = TaskAccuracy(workload=name, held_out=len(trained.split.y_test), float_accuracy=trained.float_accuracy,
                          pruned_accuracy=held_out_accuracy(name, pruned),
                          compressed_accuracy=held_out_accuracy(name, compressed), finetune_steps=finetune_steps)
    if finetune_steps > 0:
        progress(f"{name}: fine-tuning the pruned model ({finetune_steps} steps)")
        result.pruned_finetuned_accuracy = held_out_accuracy(name, finetune(pruned, name, finetune_steps))
        progress(f"{name}: quantisation-aware fine-tuning ({finetune_steps} steps, straight-through fake quant)")
        result.compressed_finetuned_accuracy = held_out_accuracy(name, finetune(compressed, name, finetune_steps))
    return result


def resized_accuracy(name: str, blocks: list[nn.Module], image_size: int, stride: int) -> float:
    """Held-out accuracy of a vision workload with its images resized to `image_size` and patched at `stride`
    (fewer tokens; the sin-cos position embedding follows the grid)."""
    split = tasks.load_trained(name).split
    model = compressed_model(name, blocks, None)
    model.embed.stride = stride
    images = nn.functional.interpolate(split.x_test, size=image_size, mode="bilinear", antialias=True,
                                       align_corners=False)
    with torch.no_grad(), tasks.single_thread():
        return float((model(images).argmax(-1) == split.y_test).float().mean())


def rank_correlation(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho (average ranks for ties); None when either side is constant."""
    def ranks(values):
        values = np.asarray(values, dtype=float)
        order = values.argsort(kind="stable")
        r = np.empty(len(values))
        r[order] = np.arange(len(values))
        for v in np.unique(values):
            r[values == v] = r[values == v].mean()
        return r

    rx, ry = ranks(xs), ranks(ys)
    if len(xs) < 2 or rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])
