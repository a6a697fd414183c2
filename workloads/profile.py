"""Per-layer workload profile of a transformer / multimodal model, collected with forward hooks.

Each distinct piece (stem, one block per stack, projector, head) is instantiated once: a forward on the meta
device at the full token count gives exact shapes at no cost, and a real forward on calibration inputs (at most
`calib_tokens` tokens) gives activation ranges. Stack totals are the block's numbers times the layer count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from pydantic import BaseModel, computed_field
from torch import nn

from workloads import modules as M
from workloads import tasks
from workloads.config import ModelConfig, StackConfig

Op = Literal["linear", "matmul", "softmax", "layernorm", "rmsnorm", "gelu", "silu", "mul", "embed"]
GEMM_OPS = ("linear", "matmul")
ELEMENTWISE_OPS = ("softmax", "layernorm", "rmsnorm", "gelu", "silu", "mul")
PROFILE_VERSION = 1
TRAINED_CALIB = 64  # training samples whose activations give a trained workload's ranges


class ActRange(BaseModel):
    """Observed activation statistics of one layer on the calibration inputs."""

    in_absmax: float
    out_min: float
    out_max: float
    out_absmax: float
    out_p999: float  # 99.9th percentile of |output|
    w_absmax: float | None = None  # largest |weight| (linear layers)


class LayerProfile(BaseModel):
    name: str
    op: Op
    group: str  # hierarchy level inside the section: attn, mlp, norm, or the section kind
    m: int = 0
    n: int = 0
    k: int = 0
    count: int = 1  # independent GEMMs of this shape (batch x heads)
    macs: int = 0
    params: int = 0
    in_elems: int = 0
    out_elems: int = 0
    row_len: int = 0  # softmax / norm row length
    ranges: ActRange | None = None


class Totals(BaseModel):
    macs: int = 0
    gemm_macs: int = 0  # weight GEMMs (linear)
    attn_macs: int = 0  # activation x activation (QK^T, PV)
    params: int = 0
    act_elems: int = 0  # sum of layer outputs
    softmax_elems: int = 0
    norm_elems: int = 0
    act_fn_elems: int = 0  # GELU / SiLU
    kv_cache_elems: int = 0

    @computed_field
    @property
    def param_bytes(self) -> int:
        """Weights at int8 (what the accelerator stores before mixed-precision compression)."""
        return self.params

    @computed_field
    @property
    def act_bytes(self) -> int:
        """Every layer output written once at int8."""
        return self.act_elems

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{f: getattr(self, f) + getattr(other, f) for f in type(self).model_fields})

    def scaled(self, factor: int) -> Totals:
        return Totals(**{f: getattr(self, f) * factor for f in type(self).model_fields})


class SectionProfile(BaseModel):
    name: str  # e.g. vision.block, text.block, stem, projector, head
    kind: Literal["stem", "embed", "block", "projector", "head"]
    stack: str | None = None
    repeat: int = 1
    tokens: int = 0
    past_tokens: int = 0
    layers: list[LayerProfile]
    totals: Totals  # one instance; the phase totals multiply by `repeat`


class PhaseProfile(BaseModel):
    name: Literal["forward", "prefill", "decode"]
    sections: list[SectionProfile]
    totals: Totals


class ModelProfile(BaseModel):
    version: int = PROFILE_VERSION
    model: str
    config: ModelConfig
    batch: int
    calib_tokens: int
    seed: int
    phases: list[PhaseProfile]

    def phase(self, name: str) -> PhaseProfile:
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise KeyError(f"profile of {self.model} has no phase {name!r}")

    @property
    def main_phase(self) -> PhaseProfile:
        return self.phases[0]


def _op_of(module: nn.Module) -> Op | None:
    for cls, op in ((nn.Linear, "linear"), (M.MatMul, "matmul"), (M.Softmax, "softmax"), (nn.LayerNorm, "layernorm"),
                    (M.RMSNorm, "rmsnorm"), (M.GELU, "gelu"), (M.SiLU, "silu"), (M.Mul, "mul")):
        if isinstance(module, cls):
            return op  # type: ignore[return-value]
    return None


def _group_of(name: str, kind: str) -> str:
    head = name.split(".")[0]
    if head in ("attn", "mlp"):
        return head
    if head.startswith("norm"):
        return "norm"
    return kind


def _layer_from_call(name: str, op: Op, group: str, module: nn.Module, args: tuple, out: torch.Tensor) -> LayerProfile:
    x = args[0]
    layer = LayerProfile(name=name, op=op, group=group, in_elems=sum(a.numel() for a in args), out_elems=out.numel())
    if op == "linear":
        layer.k, layer.n = module.in_features, module.out_features
        layer.m = x.numel() // layer.k
        layer.params = sum(p.numel() for p in module.parameters())
    elif op == "matmul":
        a, b = args
        layer.m, layer.k, layer.n = a.shape[-2], a.shape[-1], b.shape[-1]
        layer.count = a.numel() // (layer.m * layer.k)
    else:
        layer.row_len = x.shape[-1]
        layer.params = sum(p.numel() for p in module.parameters())
    layer.macs = layer.m * layer.n * layer.k * layer.count
    return layer


def _abs_quantile(t: torch.Tensor, q: float, cap: int = 1 << 20) -> float:
    flat = t.detach().abs().flatten().float()
    if flat.numel() > cap:
        flat = flat[torch.linspace(0, flat.numel() - 1, cap).long()]
    return float(torch.quantile(flat, q))


def trace(module: nn.Module, run: Callable[[], torch.Tensor], kind: str, with_ranges: bool) -> list[LayerProfile]:
    """Run `run()` with hooks on every leaf op of `module`; one LayerProfile per call, in execution order."""
    records: list[LayerProfile] = []
    handles = []

    def hook_for(name: str, op: Op):
        def hook(mod: nn.Module, args: tuple, out: torch.Tensor) -> None:
            layer = _layer_from_call(name, op, _group_of(name, kind), mod, args, out)
            if with_ranges:
                x = args[0]
                finite = x.detach().abs()[torch.isfinite(x)]  # causal masks put -inf into the scores
                layer.ranges = ActRange(in_absmax=float(finite.max()) if finite.numel() else 0.0,
                                        out_min=float(out.min()),
                                        out_max=float(out.max()), out_absmax=float(out.detach().abs().max()),
                                        out_p999=_abs_quantile(out, 0.999),
                                        w_absmax=float(mod.weight.detach().abs().max()) if op == "linear" else None)
            records.append(layer)
        return hook

    for name, sub in module.named_modules():
        op = _op_of(sub)
        if op is not None:
            handles.append(sub.register_forward_hook(hook_for(name or kind, op)))
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return records


def totals_of(layers: list[LayerProfile], kv_cache_elems: int = 0) -> Totals:
    t = Totals(kv_cache_elems=kv_cache_elems)
    for layer in layers:
        t.macs += layer.macs
        t.gemm_macs += layer.macs if layer.op == "linear" else 0
        t.attn_macs += layer.macs if layer.op == "matmul" else 0
        t.params += layer.params
        t.act_elems += layer.out_elems
        t.softmax_elems += layer.out_elems if layer.op == "softmax" else 0
        t.norm_elems += layer.out_elems if layer.op in ("layernorm", "rmsnorm") else 0
        t.act_fn_elems += layer.out_elems if layer.op in ("gelu", "silu") else 0
    return t


class _Profiler:
    def __init__(self, cfg: ModelConfig, batch: int, calib_tokens: int, seed: int, with_ranges: bool):
        self.cfg, self.batch, self.calib_tokens, self.seed, self.with_ranges = cfg, batch, calib_tokens, seed, with_ranges

    def section(self, name: str, kind: str, factory: Callable[[], nn.Module], seed: int, shape_input: Callable,
                calib_input: Callable | None, stack: str | None = None, repeat: int = 1, tokens: int = 0,
                past: int = 0, kv_cache_elems: int = 0, stack_cfg: StackConfig | None = None) -> SectionProfile:
        """Shapes from a meta-device forward at full size; ranges from a real forward on calibration input."""
        meta = M.seeded(factory, seed, device="meta")
        with torch.device("meta"):
            layers = trace(meta, lambda: meta(*shape_input()), kind, with_ranges=False)
        if self.with_ranges and calib_input is not None:
            if stack_cfg is not None:
                real = M.make_block(self.cfg, stack_cfg, 0)
            elif kind == "stem" and self.cfg.trained:
                real = tasks.load_trained(self.cfg.trained).model.embed
            else:
                real = M.seeded(factory, seed)
            measured = trace(real, lambda: real(*calib_input()), kind, with_ranges=True)
            ranges = {layer.name: layer.ranges for layer in measured}
            for layer in layers:
                layer.ranges = ranges.get(layer.name)
        return SectionProfile(name=name, kind=kind, stack=stack, repeat=repeat, tokens=tokens, past_tokens=past,
                              layers=layers, totals=totals_of(layers, kv_cache_elems))

    def block(self, stack: StackConfig, tokens: int, past: int, calib: Callable[[int], torch.Tensor] | None,
              phase: str) -> SectionProfile:
        b = self.batch
        calib_tokens = min(tokens, self.calib_tokens)
        kv = 2 * b * stack.n_kv_heads * stack.head_dim * (tokens + past) if stack.causal else 0
        return self.section(
            f"{stack.name}.block", "block", lambda: M.Block(stack), M.block_seed(stack.name, 0),
            lambda: (torch.empty(b, tokens, stack.hidden), past),
            (lambda: (calib(calib_tokens), 0)) if calib is not None and phase != "decode" else None,
            stack=stack.name, repeat=stack.layers, tokens=tokens, past=past, kv_cache_elems=kv, stack_cfg=stack)

    def embed(self, stack: StackConfig, tokens: int) -> SectionProfile:
        layer = LayerProfile(name="embed", op="embed", group="embed", params=self.cfg.vocab * stack.hidden,
                             in_elems=self.batch * tokens, out_elems=self.batch * tokens * stack.hidden)
        return SectionProfile(name="embed", kind="embed", stack=stack.name, tokens=tokens, layers=[layer],
                              totals=totals_of([layer]))

    def head(self, norm: str, hidden: int, out: int, token: int, tokens: int, calib: Callable | None) -> SectionProfile:
        b = self.batch
        return self.section("head", "head", lambda: M.Head(norm, hidden, out, token), self.seed + 7,
                            lambda: (torch.empty(b, tokens, hidden),), calib, tokens=tokens)

    def _images(self) -> torch.Tensor:
        """Calibration images: synthetic, or a trained workload's first training images (at least 64)."""
        if self.cfg.trained:
            return tasks.load_trained(self.cfg.trained).split.x_train[: max(self.batch, TRAINED_CALIB)]
        return M.calibration_images(self.cfg, self.batch, self.seed)

    def _text_tokens(self, text: StackConfig, n: int) -> torch.Tensor:
        if self.cfg.trained:
            return tasks.block_inputs(self.cfg.trained, "train", max(self.batch, TRAINED_CALIB))[:, :n]
        return M.calibration_tokens(text.hidden, self.batch, n, self.seed + 3)

    def run(self) -> list[PhaseProfile]:
        cfg, b = self.cfg, self.batch
        vision_sections: list[SectionProfile] = []
        vision_out: Callable[[int], torch.Tensor] | None = None
        if cfg.stem is not None:
            stem, vis = cfg.stem, cfg.vision
            images = self._images if self.with_ranges else None
            stem_sec = self.section("stem", "stem", lambda: M.PatchEmbed(cfg), self.seed + 1,
                                    lambda: (torch.empty(b, stem.channels, stem.image_size, stem.image_size),),
                                    (lambda: (images(),)) if images else None, tokens=stem.tokens)
            if self.with_ranges:
                patch_embed = (tasks.load_trained(cfg.trained).model.embed if cfg.trained else
                               M.seeded(lambda: M.PatchEmbed(cfg), self.seed + 1))
                with torch.no_grad():
                    embedded = patch_embed(images())
                def vision_out(n, embedded=embedded):
                    return embedded[:, :n]
            vision_sections = [stem_sec, self.block(vis, stem.tokens, 0, vision_out, "forward")]
        if cfg.family == "vit":
            head = self.head("layernorm", cfg.vision.hidden, cfg.num_classes, 0, cfg.stem.tokens,
                             (lambda: (vision_out(cfg.stem.tokens),)) if vision_out and not cfg.trained else None)
            return [self._phase("forward", [*vision_sections, head])]
        text = cfg.text
        calib_text = (lambda n: self._text_tokens(text, n)) if self.with_ranges else None
        ctx = cfg.text_context
        if cfg.family == "encoder":
            head = self.head(text.norm, text.hidden, text.hidden, 0, ctx,
                             (lambda: (calib_text(min(ctx, self.calib_tokens)),))
                             if calib_text and not cfg.trained else None)
            return [self._phase("forward", [self.embed(text, ctx), self.block(text, ctx, 0, calib_text, "forward"),
                                            head])]
        prefill = list(vision_sections)
        if cfg.family == "vlm":
            dims, img = cfg.projector_dims, cfg.image_tokens
            prefill.append(self.section(
                "projector", "projector", lambda: M.Projector(dims), self.seed + 5,
                lambda: (torch.empty(b, img, dims[0]),),
                (lambda: (vision_out(min(img, self.calib_tokens)),)) if vision_out else None, tokens=img))
        head_calib = (lambda: (calib_text(min(ctx, self.calib_tokens)),)) if calib_text else None
        prefill += [self.embed(text, cfg.seq_len), self.block(text, ctx, 0, calib_text, "prefill"),
                    self.head(text.norm, text.hidden, cfg.vocab, -1, ctx, head_calib)]
        decode = [self.embed(text, 1), self.block(text, 1, ctx, calib_text, "decode"),
                  self.head(text.norm, text.hidden, cfg.vocab, -1, 1, None)]
        return [self._phase("prefill", prefill), self._phase("decode", decode)]

    @staticmethod
    def _phase(name: str, sections: list[SectionProfile]) -> PhaseProfile:
        total = Totals()
        for sec in sections:
            total = total + sec.totals.scaled(sec.repeat)
        return PhaseProfile(name=name, sections=sections, totals=total)


def profile_model(cfg: ModelConfig, batch: int = 1, calib_tokens: int = 256, seed: int = 0,
                  with_ranges: bool = True) -> ModelProfile:
    """Profile `cfg` per layer (shapes, MACs, params, element counts, activation ranges) for each phase."""
    if batch < 1 or calib_tokens < 1:
        raise ValueError("batch and calib_tokens must be positive")
    phases = _Profiler(cfg, batch, calib_tokens, seed, with_ranges).run()
    return ModelProfile(model=cfg.name, config=cfg, batch=batch, calib_tokens=calib_tokens, seed=seed, phases=phases)
