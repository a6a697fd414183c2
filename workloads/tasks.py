"""Two small trained workloads on real data shipped inside scikit-learn (no download).

- `digits-vit`: a ViT on `load_digits` (1,797 8x8 handwritten digits, 10 classes); 2x2 patches are the 16
  tokens, mean-pooled into the classifier.
- `cancer-tab`: a tabular transformer on `load_breast_cancer` (569 records, 30 features, benign/malignant);
  one token per feature (value x a learned vector + a learned bias), a class token and a register token.

Both have one post-LN encoder block of d = 32, 2 heads, d_ff = 64 with 16 or 32 tokens, so the block runs on
the expert baseline accelerator (16 x 16 array; every size a multiple of 16; post-LN; exact GELU and
LayerNorm as in the golden model's float reference). Splits are fixed (stratified, seed 0, 25 % held out),
training is seeded and deterministic, and the trained weights are cached under `cache_dir("workloads")`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from workloads import modules as M
from workloads.config import PRESETS, ModelConfig


@dataclass(frozen=True)
class TrainRecipe:
    steps: int
    batch: int = 128
    lr: float = 4e-3
    weight_decay: float = 0.01
    seed: int = 0


CONFIGS: dict[str, ModelConfig] = {name: PRESETS[name] for name in ("digits-vit", "cancer-tab")}
RECIPES = {"digits-vit": TrainRecipe(steps=800), "cancer-tab": TrainRecipe(steps=200, lr=2e-3)}
CANCER_FEATURES = 30


@dataclass
class Split:
    """Fixed train / held-out split (inputs as float32 tensors, labels as int64)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def dataset(name: str) -> Split:
    """Digits as [N, 1, 8, 8] images scaled to [0, 1]; breast cancer standardised with the training statistics."""
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split

    if name == "digits-vit":
        data = load_digits()
        x = data.data.reshape(-1, 1, 8, 8) / 16.0
    elif name == "cancer-tab":
        data = load_breast_cancer()
        x = data.data
    else:
        raise ValueError(f"unknown trained workload {name!r}; choose from {', '.join(CONFIGS)}")
    x_tr, x_te, y_tr, y_te = train_test_split(x, data.target, test_size=0.25, random_state=0, stratify=data.target)
    if name == "cancer-tab":
        mean, std = x_tr.mean(0), x_tr.std(0) + 1e-9
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    as_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.int64)  # noqa: E731
    return Split(as_x(x_tr), as_y(y_tr), as_x(x_te), as_y(y_te))


class TaskModel(nn.Module):
    """Tokeniser -> post-LN encoder blocks -> float head. `tokens(x)` is the block input, `classify(h)` the head."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        stack = cfg.vision or cfg.text
        self.blocks = nn.ModuleList(M.Block(stack) for _ in range(stack.layers))
        self.head_norm = nn.LayerNorm(stack.hidden, eps=1e-6)
        self.head = nn.Linear(stack.hidden, cfg.num_classes)
        if cfg.family == "vit":
            self.embed = M.PatchEmbed(cfg)
        else:
            d = stack.hidden
            self.feature_weight = nn.Parameter(torch.randn(CANCER_FEATURES, d) * 0.5)
            self.feature_bias = nn.Parameter(torch.randn(CANCER_FEATURES, d) * 0.1)
            self.special = nn.Parameter(torch.randn(cfg.seq_len - CANCER_FEATURES, d) * 0.1)  # class + register

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.family == "vit":
            return self.embed(x)
        feats = x.unsqueeze(-1) * self.feature_weight + self.feature_bias
        return torch.cat([self.special.expand(x.shape[0], -1, -1), feats], dim=1)

    def classify(self, h: torch.Tensor) -> torch.Tensor:
        pooled = h.mean(1) if self.cfg.family == "vit" else h[:, 0]
        return self.head(self.head_norm(pooled))

    def encode(self, t: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            t = block(t)
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.encode(self.tokens(x)))


@contextmanager
def single_thread():
    """One intra-op thread: these models are tiny (thread hand-offs cost more than they save) and results are
    then independent of the core count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train(model: nn.Module, split: Split, recipe: TrainRecipe, params=None, progress=None) -> None:
    """AdamW with a cosine schedule on shuffled mini-batches (seeded); `params` limits what is trained."""
    with single_thread():
        _train(model, split, recipe, params, progress)


def _train(model: nn.Module, split: Split, recipe: TrainRecipe, params, progress) -> None:
    gen = torch.Generator().manual_seed(recipe.seed)
    opt = torch.optim.AdamW(list(params or model.parameters()), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(recipe.steps, 1))
    n = len(split.y_train)
    order, pos = torch.randperm(n, generator=gen), 0
    model.train()
    for step in range(recipe.steps):
        if pos + recipe.batch > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos: pos + recipe.batch]
        pos += recipe.batch
        loss = nn.functional.cross_entropy(model(split.x_train[idx]), split.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if progress and step % 100 == 0:
            progress(step, recipe.steps)
    model.eval()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean())


@dataclass
class Trained:
    name: str
    model: TaskModel
    split: Split
    float_accuracy: float
    train_accuracy: float
    train_seconds: float  # of the run that produced the cached weights
    cached: bool


def _cache_key(name: str) -> str:
    blob = json.dumps({"config": CONFIGS[name].model_dump(), "recipe": asdict(RECIPES[name]), "v": 1},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _cache_path(name: str):
    from verify.paths import cache_dir

    return cache_dir("workloads") / f"{name}-{_cache_key(name)}.pt"


def build(name: str, seed: int = 0) -> TaskModel:
    if name not in CONFIGS:
        raise ValueError(f"unknown trained workload {name!r}; choose from {', '.join(CONFIGS)}")
    torch.manual_seed(seed)
    return TaskModel(CONFIGS[name])


_LOADED: dict[str, Trained] = {}


def load_trained(name: str, progress=None) -> Trained:
    """The trained model (from the cache, else trained now and cached) with its split and accuracies."""
    if name in _LOADED:
        return _LOADED[name]
    model, split, path = build(name), dataset(name), _cache_path(name)
    if path.is_file():
        saved = torch.load(path, weights_only=True)
        model.load_state_dict(saved["state"])
        seconds, cached = float(saved["train_seconds"]), True
    else:
        started = time.perf_counter()
        train(model, split, RECIPES[name], progress=progress)
        seconds, cached = time.perf_counter() - started, False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"state": model.state_dict(), "train_seconds": seconds}, tmp)
        tmp.replace(path)  # atomic: a killed run leaves no half-written cache
    model.eval()
    result = Trained(name, model, split, accuracy(model, split.x_test, split.y_test),
                     accuracy(model, split.x_train, split.y_train), seconds, cached)
    _LOADED[name] = result
    return result


def trained_block(name: str, index: int) -> M.Block:
    """A copy of encoder block `index` of the trained workload (eval mode)."""
    return copy.deepcopy(load_trained(name).model.blocks[index]).eval()


def block_inputs(name: str, split: str, n: int | None = None) -> torch.Tensor:
    """Inputs of the first encoder block (the tokeniser's output) for the first `n` samples of a split."""
    t = load_trained(name)
    x = t.split.x_train if split == "train" else t.split.x_test
    with torch.no_grad():
        return t.model.tokens(x[:n])


def block_weights(block: M.Block) -> dict[str, np.ndarray]:
    """A post-LN block's float weights in the golden model's x @ W form (float64)."""
    def w(lin: nn.Linear) -> np.ndarray:
        return lin.weight.detach().double().numpy().T.copy()

    def v(t: torch.Tensor) -> np.ndarray:
        return t.detach().double().numpy().copy()

    a, m = block.attn, block.mlp
    return {"wq": w(a.q), "bq": v(a.q.bias), "wk": w(a.k), "bk": v(a.k.bias), "wv": w(a.v), "bv": v(a.v.bias),
            "wo": w(a.o), "bo": v(a.o.bias), "w1": w(m.fc1), "b1": v(m.fc1.bias), "w2": w(m.fc2), "b2": v(m.fc2.bias),
            "ln1_gamma": v(block.norm1.weight), "ln1_beta": v(block.norm1.bias),
            "ln2_gamma": v(block.norm2.weight), "ln2_beta": v(block.norm2.bias)}
