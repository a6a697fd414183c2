"""Fake quantisation (quantise, then dequantise) of weights and activations, shared by compression and QAT."""

from __future__ import annotations

import torch

ACT_BITS = 8


def quantize_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Symmetric per-output-channel fake quantisation."""
    qmax = 2 ** (bits - 1) - 1
    scale = w.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / qmax
    return (w / scale).round().clamp(-qmax - 1, qmax) * scale


def quantize_act(x: torch.Tensor, bits: int = ACT_BITS) -> torch.Tensor:
    """Symmetric per-tensor dynamic fake quantisation of an activation."""
    qmax = 2 ** (bits - 1) - 1
    scale = x.abs().amax().clamp_min(1e-12) / qmax
    return (x / scale).round().clamp(-qmax - 1, qmax) * scale
