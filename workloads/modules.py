"""Transformer pieces built from hookable leaf modules, so forward hooks see every GEMM and every non-linear op.

Weights are random (seeded, HuggingFace-style N(0, 0.02) init); nothing is downloaded.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from workloads.config import ModelConfig, StackConfig

INIT_STD = 0.02


class MatMul(nn.Module):
    """Activation x activation GEMM (attention scores and context), batched over heads."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


class Softmax(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


class GELU(nn.GELU):
    pass


class SiLU(nn.SiLU):
    pass


class Mul(nn.Module):
    """Element-wise product (SwiGLU gate)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * b


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def make_norm(kind: str, dim: int) -> nn.Module:
    return nn.LayerNorm(dim, eps=1e-6) if kind == "layernorm" else RMSNorm(dim)


def _init(module: nn.Module) -> None:
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            nn.init.trunc_normal_(sub.weight, std=INIT_STD)
            if sub.bias is not None:
                nn.init.normal_(sub.bias, std=INIT_STD)


class Attention(nn.Module):
    def __init__(self, cfg: StackConfig):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim, self.causal = cfg.heads, cfg.n_kv_heads, cfg.head_dim, cfg.causal
        inner, kv_inner = self.heads * self.head_dim, self.kv_heads * self.head_dim
        self.q = nn.Linear(cfg.hidden, inner, bias=cfg.qkv_bias)
        self.k = nn.Linear(cfg.hidden, kv_inner, bias=cfg.qkv_bias)
        self.v = nn.Linear(cfg.hidden, kv_inner, bias=cfg.qkv_bias)
        self.o = nn.Linear(inner, cfg.hidden, bias=cfg.mlp == "gelu")
        self.qk, self.av, self.softmax = MatMul(), MatMul(), Softmax()

    def forward(self, x: torch.Tensor, past_len: int = 0) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        if past_len:  # decode: the KV cache holds `past_len` earlier tokens
            k = torch.cat([k.new_zeros(b, self.kv_heads, past_len, self.head_dim), k], dim=2)
            v = torch.cat([v.new_zeros(b, self.kv_heads, past_len, self.head_dim), v], dim=2)
        group = self.heads // self.kv_heads
        if group > 1:
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        scores = self.qk(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if self.causal and t > 1:
            mask = torch.ones(t, t + past_len, dtype=torch.bool, device=x.device).triu(past_len + 1)
            scores = scores.masked_fill(mask, float("-inf"))
        ctx = self.av(self.softmax(scores), v)
        return self.o(ctx.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class MLP(nn.Module):
    def __init__(self, cfg: StackConfig):
        super().__init__()
        self.gated = cfg.mlp == "swiglu"
        if self.gated:
            self.gate = nn.Linear(cfg.hidden, cfg.mlp_dim, bias=False)
            self.up = nn.Linear(cfg.hidden, cfg.mlp_dim, bias=False)
            self.act, self.mul = SiLU(), Mul()
            self.down = nn.Linear(cfg.mlp_dim, cfg.hidden, bias=False)
        else:
            self.fc1 = nn.Linear(cfg.hidden, cfg.mlp_dim)
            self.act = GELU()
            self.fc2 = nn.Linear(cfg.mlp_dim, cfg.hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gated:
            return self.down(self.mul(self.act(self.gate(x)), self.up(x)))
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """One transformer block, pre- or post-norm."""

    def __init__(self, cfg: StackConfig):
        super().__init__()
        self.pre = cfg.norm_position == "pre"
        self.norm1, self.attn = make_norm(cfg.norm, cfg.hidden), Attention(cfg)
        self.norm2, self.mlp = make_norm(cfg.norm, cfg.hidden), MLP(cfg)

    def forward(self, x: torch.Tensor, past_len: int = 0) -> torch.Tensor:
        if self.pre:
            x = x + self.attn(self.norm1(x), past_len)
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attn(x, past_len))
        return self.norm2(x + self.mlp(x))


class PatchEmbed(nn.Module):
    """Image -> patch tokens as one GEMM (unfold + linear), plus class token and position embedding."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        stem = cfg.stem
        self.patch, self.stride, self.cls = stem.patch, stem.patch_stride, stem.cls_token
        self.proj = nn.Linear(stem.channels * stem.patch**2, cfg.vision.hidden)
        self.cls_token = nn.Parameter(torch.randn(1, 1, cfg.vision.hidden) * INIT_STD)
        self.hidden = cfg.vision.hidden

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        cols = nn.functional.unfold(images, self.patch, stride=self.stride).transpose(1, 2)
        grid = round(cols.shape[1] ** 0.5)
        x = self.proj(cols) + sincos_2d(grid, self.hidden).to(cols.device, cols.dtype)
        if self.cls:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x


def sincos_2d(grid: int, dim: int) -> torch.Tensor:
    """Fixed 2-D sin-cos position embedding over normalised coordinates (resolution independent, as in MAE)."""
    coords = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    quarter = dim // 4
    freqs = math.pi * torch.exp(torch.linspace(0.0, math.log(64.0), quarter))
    parts = [f(c.reshape(-1, 1) * freqs) for c in (yy, xx) for f in (torch.sin, torch.cos)]
    emb = torch.cat(parts, dim=1) * INIT_STD * 10
    return nn.functional.pad(emb, (0, dim - emb.shape[1]))


class Projector(nn.Module):
    """VLM vision-to-language projector: Linear-GELU-Linear..."""

    def __init__(self, dims: list[int]):
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(itertools.pairwise(dims)):
            layers.append(nn.Linear(a, b))
            if i < len(dims) - 2:
                layers.append(GELU())
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Head(nn.Module):
    """Final norm plus classifier / LM head on the last (decoder) or first (encoder) token."""

    def __init__(self, norm: str, hidden: int, out: int, token: int):
        super().__init__()
        self.norm, self.out, self.token = make_norm(norm, hidden), nn.Linear(hidden, out, bias=False), token

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.norm(x[:, self.token : self.token + 1 if self.token != -1 else None]))


def seeded(factory, seed: int, device: str = "cpu") -> nn.Module:
    """Build a module with deterministic random weights (eval mode)."""
    with torch.device(device):
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        module = factory()
        if device != "meta":
            _init(module)
        torch.random.set_rng_state(gen_state)
    return module.eval()


def block_seed(stack: str, index: int) -> int:
    return (sum(map(ord, stack)) * 1009 + index) % (2**31)


def make_block(model: ModelConfig, stack: StackConfig, index: int) -> Block:
    """Block `index` of `stack`: trained (workloads.tasks) or checkpoint weights when the model has them, else
    seeded random ones."""
    if model.trained:
        from workloads.tasks import trained_block

        return trained_block(model.trained, index)
    block = seeded(lambda: Block(stack), block_seed(stack.name, index))
    if model.checkpoint:
        from workloads.hf import block_state

        names = list(block.state_dict())
        block.load_state_dict(block_state(model.checkpoint, model.hf_arch or "", index, names))
    return block


def calibration_images(cfg: ModelConfig, batch: int, seed: int) -> torch.Tensor:
    """Smooth synthetic images: low-resolution noise upsampled (natural-image-like spectra, no dataset)."""
    gen = torch.Generator().manual_seed(seed)
    size = cfg.stem.image_size
    low = torch.randn(batch, cfg.stem.channels, max(2, size // 32), max(2, size // 32), generator=gen)
    fine = torch.randn(batch, cfg.stem.channels, max(2, size // 8), max(2, size // 8), generator=gen) * 0.3
    img = nn.functional.interpolate(low, size=size, mode="bicubic", align_corners=False)
    return img + nn.functional.interpolate(fine, size=size, mode="bilinear", align_corners=False)


def calibration_tokens(hidden: int, batch: int, tokens: int, seed: int) -> torch.Tensor:
    """Token embeddings for text stacks: rows of a random N(0, 1) embedding table (what LNs see after scaling)."""
    gen = torch.Generator().manual_seed(seed)
    table = torch.randn(512, hidden, generator=gen)
    ids = torch.randint(0, 512, (batch, tokens), generator=gen)
    return table[ids]
