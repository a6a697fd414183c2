"""Compression of a profiled model: hierarchy-aware mixed precision, structured pruning, token-budget sweep.

Everything is measured on the model's own random-weight blocks (same seeds as the profile), so the numbers
are accuracy *proxies* (cosine / relative MSE of outputs against the float model), not task accuracy.

Hierarchy: stack -> block -> group (attention, MLP) -> layer. Bit widths are first assigned per group, by
the measured sensitivity of the block output when the whole group is quantised, then refined per layer
inside each group by the sensitivity of the block output when that layer alone is quantised.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from pydantic import BaseModel
from torch import nn

from workloads import modules as M
from workloads import tasks
from workloads.config import ModelConfig, StackConfig, with_overrides
from workloads.fakequant import ACT_BITS, quantize_act, quantize_weight
from workloads.profile import ModelProfile, profile_model, trace
from workloads.task_accuracy import TaskAccuracy, evaluate, rank_correlation, resized_accuracy

BIT_CHOICES = (8, 6, 4)
FULL_PROXY_PARAMS = 200_000_000  # larger stacks default to a 4-layer accuracy proxy (CPU time)


def linear_layers(block: nn.Module) -> dict[str, nn.Linear]:
    return {name: mod for name, mod in block.named_modules() if isinstance(mod, nn.Linear)}


@contextmanager
def quantized(block: nn.Module, bits: dict[str, int], act_bits: int | None = None) -> Iterator[None]:
    """Temporarily fake-quantise the weights of the named linears (and, optionally, every linear's input)."""
    linears = linear_layers(block)
    saved = {name: linears[name].weight.data for name in bits}
    handles = []
    try:
        for name, b in bits.items():
            linears[name].weight.data = quantize_weight(saved[name], b)
        if act_bits is not None:
            for mod in linears.values():
                handles.append(mod.register_forward_pre_hook(lambda _m, args: (quantize_act(args[0], act_bits),)))
        yield
    finally:
        for name, weight in saved.items():
            linears[name].weight.data = weight
        for handle in handles:
            handle.remove()


def rel_mse(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float(((out - ref) ** 2).mean() / (ref**2).mean().clamp_min(1e-30))


def cosine(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float(nn.functional.cosine_similarity(out.flatten(1).double(), ref.flatten(1).double()).mean())


# --- report models -----------------------------------------------------------------------------------
class LayerBits(BaseModel):
    stack: str
    block: int  # distinct block instance; layers of the stack cycle through the instances
    layer: str
    group: str
    params: int
    weight: int  # how many stack layers use this instance
    bits: int
    sensitivity: dict[int, float]  # bits -> relative MSE of the block output, this layer alone quantised


class Proxy(BaseModel):
    stack: str
    depth: int
    cosine: float
    rel_mse: float


class PruneReport(BaseModel):
    stack: str
    heads: tuple[int, int]  # before, after
    kv_heads: tuple[int, int]
    mlp_dim: tuple[int, int]
    kept_heads: list[list[int]]  # per block instance


class SweepPoint(BaseModel):
    label: str
    image_size: int | None = None
    stride: int | None = None
    seq: int | None = None
    tokens: int
    macs: int
    cosine: float
    accuracy: float | None = None  # held-out task accuracy (trained workloads)


class TokenSweep(BaseModel):
    knob: str
    points: list[SweepPoint]
    knee: SweepPoint
    macs_budget: int | None = None
    applied: bool = False


class CompressedModel(BaseModel):
    source_model: str
    bits_budget: float
    weight_bits_avg: float
    weight_bytes_fp16: int
    weight_bytes: int
    act_bits: int = ACT_BITS
    bits_map: list[LayerBits]
    group_bits: dict[str, dict[str, float]]  # stack.block -> {attn, mlp} average bits
    proxies_float_pruned: list[Proxy]
    proxies: list[Proxy]  # pruned + quantised (W mixed, A8) vs the float unpruned model
    pruning: list[PruneReport]
    sweep: TokenSweep | None = None
    task_accuracy: TaskAccuracy | None = None  # trained workloads: real held-out accuracy
    profile: ModelProfile  # shapes after pruning (and the applied token budget)


# --- model pieces -------------------------------------------------------------------------------------
def stacks_of(cfg: ModelConfig) -> list[StackConfig]:
    return [s for s in (cfg.vision, cfg.text) if s is not None]


def calib_input(cfg: ModelConfig, stack: StackConfig, batch: int, tokens: int, seed: int,
                split: str = "train") -> torch.Tensor:
    """Input of the first block of `stack`: patch embeddings of synthetic images, or text embeddings; for a
    trained workload the tokenised samples of its `split` (up to 256 training samples, or every held-out one)."""
    if cfg.trained:
        return tasks.block_inputs(cfg.trained, split, 256 if split == "train" else None)[:, :tokens]
    if stack is cfg.vision:
        with torch.no_grad():
            return M.seeded(lambda: M.PatchEmbed(cfg), seed + 1)(M.calibration_images(cfg, batch, seed))[:, :tokens]
    return M.calibration_tokens(stack.hidden, batch, tokens, seed + 3)


def build_instances(model: ModelConfig, stack: StackConfig, max_params: int) -> list[M.Block]:
    """Distinct blocks (checkpoint or seeded random weights), as many as fit in `max_params` (at least one, at
    most the layer count)."""
    first = M.make_block(model, stack, 0)
    per_block = sum(p.numel() for p in first.parameters())
    count = max(1, min(stack.layers, max_params // max(per_block, 1)))
    return [first] + [M.make_block(model, stack, i) for i in range(1, count)]


def run_stack(blocks: list[nn.Module], x: torch.Tensor, depth: int,
              wrap: Callable[[int], object] | None = None) -> torch.Tensor:
    """Run `depth` layers, cycling through the distinct instances; `wrap(i)` is a context per instance."""
    with torch.no_grad():
        for layer in range(depth):
            index = layer % len(blocks)
            if wrap is None:
                x = blocks[index](x)
            else:
                with wrap(index):
                    x = blocks[index](x)
    return x


# --- structured pruning ------------------------------------------------------------------------------
def head_and_channel_importance(block: M.Block, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per KV-group importance (mean norm of each head's share of the output projection, summed over the
    group) and per MLP-channel importance (mean |activation| x norm of its down-projection column)."""
    attn, mlp = block.attn, block.mlp
    seen: dict[str, torch.Tensor] = {}
    hooks = [attn.av.register_forward_hook(lambda _m, _a, out: seen.__setitem__("ctx", out)),
             (mlp.mul if mlp.gated else mlp.act).register_forward_hook(lambda _m, _a, out: seen.__setitem__("h", out))]
    with torch.no_grad():
        block(x)
    for hook in hooks:
        hook.remove()
    ctx = seen["ctx"]  # (B, H, T, D)
    w_o = attn.o.weight.view(attn.o.out_features, attn.heads, attn.head_dim)
    per_head = torch.einsum("bhtd,ohd->bhto", ctx, w_o).norm(dim=-1).mean(dim=(0, 2))
    per_group = per_head.view(attn.kv_heads, attn.heads // attn.kv_heads).sum(dim=1)
    down = mlp.down if mlp.gated else mlp.fc2
    per_channel = seen["h"].abs().flatten(0, 1).mean(0) * down.weight.norm(dim=0)
    return per_group, per_channel


def pruned_config(stack: StackConfig, prune_heads: int, prune_mlp: float) -> StackConfig:
    group = stack.heads // stack.n_kv_heads
    if prune_heads % group:
        raise ValueError(f"{stack.name}: --prune-heads must be a multiple of the GQA group size {group}")
    if prune_heads >= stack.heads:
        raise ValueError(f"{stack.name}: cannot prune {prune_heads} of {stack.heads} heads")
    if not 0 <= prune_mlp < 1:
        raise ValueError("--prune-mlp must be a fraction in [0, 1)")
    keep_mlp = max(8, round(stack.mlp_dim * (1 - prune_mlp) / 8) * 8)
    heads = stack.heads - prune_heads
    return stack.model_copy(update={
        "heads": heads, "kv_heads": None if stack.kv_heads is None else heads // group,
        "mlp_dim": min(keep_mlp, stack.mlp_dim), "head_dim_override": stack.head_dim})


def prune_block(block: M.Block, old: StackConfig, new: StackConfig, x: torch.Tensor) -> tuple[M.Block, list[int]]:
    """A smaller block keeping the most important KV groups (with their query heads) and MLP channels."""
    group_imp, chan_imp = head_and_channel_importance(block, x)
    group = old.heads // old.n_kv_heads
    keep_groups = sorted(group_imp.argsort(descending=True)[: new.n_kv_heads].tolist())
    keep_heads = [g * group + j for g in keep_groups for j in range(group)]
    keep_chan = sorted(chan_imp.argsort(descending=True)[: new.mlp_dim].tolist())
    d = old.head_dim
    q_rows = torch.tensor([h * d + i for h in keep_heads for i in range(d)])
    kv_rows = torch.tensor([g * d + i for g in keep_groups for i in range(d)])
    chans = torch.tensor(keep_chan)
    small = M.Block(new).eval()
    src = dict(block.named_modules())
    with torch.no_grad():
        for name, dst in small.named_modules():
            if name in ("norm1", "norm2"):
                dst.load_state_dict(src[name].state_dict())
            elif isinstance(dst, nn.Linear):
                w, b = src[name].weight, src[name].bias
                rows = {"attn.q": q_rows, "attn.k": kv_rows, "attn.v": kv_rows, "mlp.fc1": chans,
                        "mlp.gate": chans, "mlp.up": chans}.get(name)
                cols = {"attn.o": q_rows, "mlp.fc2": chans, "mlp.down": chans}.get(name)
                if rows is not None:
                    w, b = w[rows], (b[rows] if b is not None else None)
                if cols is not None:
                    w = w[:, cols]
                dst.weight.copy_(w)
                if b is not None:
                    dst.bias.copy_(b)
    return small, keep_heads


# --- mixed precision ---------------------------------------------------------------------------------
def _sensitivities(block: M.Block, x: torch.Tensor, names: list[str], bits: tuple[int, ...]) -> dict[str, dict[int, float]]:
    with torch.no_grad():
        ref = block(x)
        out: dict[str, dict[int, float]] = {}
        for name in names:
            out[name] = {}
            for b in bits:
                with quantized(block, {name: b}):
                    out[name][b] = rel_mse(block(x), ref)
    return out


def allocate_bits(units: list[LayerBits], group_sens: dict[tuple[str, int, str], dict[int, float]],
                  budget_bits: float) -> None:
    """Assign bits in place: greedy per (block, group), then pairwise per-layer refinement inside groups.

    Cost of a unit = params x weight (stack layers using the instance) x bits; the total must not exceed
    budget_bits. Error is assumed additive over units (the usual first-order approximation)."""
    levels = sorted(BIT_CHOICES, reverse=True)

    def cost() -> float:
        return sum(u.params * u.weight * u.bits for u in units)

    def down(b: int) -> int | None:
        i = levels.index(b)
        return levels[i + 1] if i + 1 < len(levels) else None

    groups: dict[tuple[str, int, str], list[LayerBits]] = {}
    for u in units:
        u.bits = levels[0]
        groups.setdefault((u.stack, u.block, u.group), []).append(u)
    if sum(u.params * u.weight * levels[-1] for u in units) > budget_bits:
        raise ValueError(f"bits budget infeasible: even {levels[-1]}-bit weights everywhere exceed it")
    # Level 1: whole groups step down by the smallest error increase per saved bit.
    while cost() > budget_bits:
        best, best_score = None, None
        for key, members in groups.items():
            cur = members[0].bits
            nxt = down(cur) if all(m.bits == cur for m in members) else None
            if nxt is None:
                continue
            saved = sum(m.params * m.weight for m in members) * (cur - nxt)
            score = (group_sens[key][nxt] - group_sens[key][cur]) * members[0].weight / saved
            if best_score is None or score < best_score:
                best, best_score = key, score
        if best is None:
            break
        nxt = down(groups[best][0].bits)
        for m in groups[best]:
            m.bits = nxt
    # Level 2: inside each group, move bits from insensitive layers to sensitive ones while the budget
    # holds and the summed layer error drops; finally spend any slack on the most sensitive layers.
    def err(u: LayerBits, b: int) -> float:
        return u.sensitivity[b] * u.weight

    improved = True
    while improved:
        improved = False
        for members in groups.values():
            for hi in members:
                up = levels[levels.index(hi.bits) - 1] if hi.bits != levels[0] else None
                if up is None:
                    continue
                for lo in members:
                    lower = down(lo.bits)
                    if lo is hi or lower is None:
                        continue
                    delta_cost = hi.params * hi.weight * (up - hi.bits) - lo.params * lo.weight * (lo.bits - lower)
                    gain = err(hi, hi.bits) - err(hi, up) - (err(lo, lower) - err(lo, lo.bits))
                    if gain > 1e-12 and cost() + delta_cost <= budget_bits:
                        hi.bits, lo.bits = up, lower
                        improved = True
                        break
    for u in sorted(units, key=lambda u: -(err(u, u.bits) - err(u, levels[0]))):
        while u.bits != levels[0]:
            up = levels[levels.index(u.bits) - 1]
            if cost() + u.params * u.weight * (up - u.bits) > budget_bits:
                break
            u.bits = up


# --- token budget sweep ------------------------------------------------------------------------------
def _knee(points: list[SweepPoint]) -> SweepPoint:
    """Kneedle on (MACs, accuracy or else cosine): the point farthest above the chord from the cheapest to the
    dearest."""
    def quality(p: SweepPoint) -> float:
        return p.accuracy if p.accuracy is not None else p.cosine

    xs = [p.macs for p in points]
    ys = [quality(p) for p in points]
    span_x, span_y = (max(xs) - min(xs)) or 1, (max(ys) - min(ys)) or 1
    return max(points, key=lambda p: (quality(p) - min(ys)) / span_y - (p.macs - min(xs)) / span_x)


def token_sweep(cfg: ModelConfig, blocks: dict[str, list[M.Block]], batch: int, seed: int, depth: int,
                macs_budget: int | None, macs_batch: int = 1) -> TokenSweep:
    """Vision: resolution x patch-stride sweep; text: context-length sweep. Proxy: cosine of the pooled
    stack output against the full-size input; a trained vision workload also gets its held-out accuracy (real
    images, its own patch embedding) and the knee is taken on it."""
    phase = "forward" if cfg.family in ("vit", "encoder") else "prefill"

    def macs_of(variant: ModelConfig) -> int:
        return profile_model(variant, batch=macs_batch, with_ranges=False).phase(phase).totals.macs

    points: list[SweepPoint] = []
    if cfg.stem is not None:
        stem, stack = cfg.stem, cfg.vision
        pool = slice(1, None) if stem.cls_token else slice(None)
        if cfg.trained:
            images, embed = tasks.load_trained(cfg.trained).split.x_test, tasks.load_trained(cfg.trained).model.embed
        else:
            images, embed = M.calibration_images(cfg, batch, seed + 100), M.seeded(lambda: M.PatchEmbed(cfg), seed + 1)
        with torch.no_grad():
            ref = run_stack(blocks[stack.name], embed(images), depth)[:, pool].mean(1)
        sizes = sorted({max(stem.patch, round(stem.image_size * f / stem.patch) * stem.patch)
                        for f in (1.0, 0.857, 0.714, 0.571, 0.5, 0.43)}, reverse=True)
        for size in sizes:
            for stride in sorted({stem.patch, stem.patch + stem.patch // 4}):
                variant = with_overrides(cfg, image_size=size, stride=stride)
                small = nn.functional.interpolate(images, size=size, mode="bilinear", antialias=True,
                                                  align_corners=False)
                emb = M.PatchEmbed(variant)
                emb.load_state_dict(embed.state_dict())
                with torch.no_grad():
                    out = run_stack(blocks[stack.name], emb(small), depth)[:, pool].mean(1)
                acc = resized_accuracy(cfg.trained, blocks[stack.name], size, stride) if cfg.trained else None
                points.append(SweepPoint(label=f"{size}px/s{stride}", image_size=size, stride=stride,
                                         tokens=variant.stem.tokens, macs=macs_of(variant), cosine=cosine(out, ref),
                                         accuracy=acc))
        knob = "resolution x patch stride"
    else:
        stack = cfg.text
        full = M.calibration_tokens(stack.hidden, batch, cfg.seq_len, seed + 103)
        with torch.no_grad():
            ref = run_stack(blocks[stack.name], full, depth)[:, -1]
        for frac in (1.0, 0.75, 0.5, 0.375, 0.25, 0.125):
            seq = max(8, int(cfg.seq_len * frac))
            with torch.no_grad():  # keep the most recent `seq` tokens
                out = run_stack(blocks[stack.name], full[:, -seq:], depth)[:, -1]
            points.append(SweepPoint(label=f"seq{seq}", seq=seq, tokens=seq,
                                     macs=macs_of(with_overrides(cfg, seq=seq)), cosine=cosine(out, ref)))
        knob = "sequence length"
    allowed = [p for p in points if macs_budget is None or p.macs <= macs_budget]
    if not allowed:
        raise ValueError(f"no token budget fits {macs_budget} MACs (smallest point needs {min(p.macs for p in points)})")
    return TokenSweep(knob=knob, points=points, knee=_knee(allowed), macs_budget=macs_budget)


# --- the whole flow ----------------------------------------------------------------------------------
def compress(profile: ModelProfile, bits_budget: float = 6.0, memory_budget_bytes: int | None = None,
             prune_heads: int = 0, prune_mlp: float = 0.0, macs_budget: int | None = None,
             sweep: bool = True, calib_tokens: int = 64, max_block_params: int = 40_000_000,
             proxy_depth: int | None = None, finetune_steps: int = 0,
             progress: Callable[[str], None] = lambda _msg: None) -> CompressedModel:
    """Prune, then choose per-layer bits under the budget, measure proxies, sweep token budgets; a trained
    workload also gets its real held-out accuracy, fine-tuned for `finetune_steps` when positive."""
    cfg, batch, seed = profile.config, max(profile.batch, 2), profile.seed
    if finetune_steps < 0:
        raise ValueError("--finetune must be a step count >= 0")
    if finetune_steps and not cfg.trained:
        raise ValueError(f"--finetune needs a trained workload ({', '.join(tasks.CONFIGS)}); {cfg.name} has random "
                         "weights")
    new_cfg = cfg.model_copy(deep=True)
    instances: dict[str, list[M.Block]] = {}
    pruned: dict[str, list[M.Block]] = {}
    inputs: dict[str, torch.Tensor] = {}
    held_out: dict[str, torch.Tensor] = {}
    reports: list[PruneReport] = []
    for stack in stacks_of(cfg):
        tokens = min(calib_tokens, cfg.stem.tokens if stack is cfg.vision else cfg.text_context)
        progress(f"{stack.name}: building blocks")
        instances[stack.name] = build_instances(cfg, stack, max_block_params)
        inputs[stack.name] = calib_input(cfg, stack, batch, tokens, seed)
        held_out[stack.name] = calib_input(cfg, stack, batch, tokens, seed + 100, split="test")
        small_cfg = pruned_config(stack, prune_heads, prune_mlp)
        if small_cfg.heads == stack.heads and small_cfg.mlp_dim == stack.mlp_dim:
            pruned[stack.name], kept = instances[stack.name], [list(range(stack.heads))] * len(instances[stack.name])
        else:
            progress(f"{stack.name}: pruning heads / MLP channels")
            pruned[stack.name], kept, x = [], [], inputs[stack.name]
            for block in instances[stack.name]:
                small, heads = prune_block(block, stack, small_cfg, x)
                pruned[stack.name].append(small)
                kept.append(heads)
                with torch.no_grad():
                    x = block(x)
        setattr(new_cfg, "vision" if stack is cfg.vision else "text", small_cfg)
        reports.append(PruneReport(stack=stack.name, heads=(stack.heads, small_cfg.heads),
                                   kv_heads=(stack.n_kv_heads, small_cfg.n_kv_heads),
                                   mlp_dim=(stack.mlp_dim, small_cfg.mlp_dim), kept_heads=kept))

    units: list[LayerBits] = []
    group_sens: dict[tuple[str, int, str], dict[int, float]] = {}
    for stack in stacks_of(new_cfg):
        blocks, x = pruned[stack.name], inputs[stack.name]
        uses = [len(range(i, stack.layers, len(blocks))) for i in range(len(blocks))]
        for index, block in enumerate(blocks):
            progress(f"{stack.name}: sensitivity of block {index + 1}/{len(blocks)}")
            lin = linear_layers(block)
            sens = _sensitivities(block, x, list(lin), BIT_CHOICES)
            for group in ("attn", "mlp"):
                names = [n for n in lin if n.startswith(group + ".")]
                with torch.no_grad():
                    ref = block(x)
                    group_sens[(stack.name, index, group)] = {}
                    for b in BIT_CHOICES:
                        with quantized(block, {n: b for n in names}):
                            group_sens[(stack.name, index, group)][b] = rel_mse(block(x), ref)
                units += [LayerBits(stack=stack.name, block=index, layer=n, group=group, params=lin[n].weight.numel(),
                                    weight=uses[index], bits=8, sensitivity=sens[n]) for n in names]
            with torch.no_grad():
                x = block(x)
    total_params = sum(u.params * u.weight for u in units)
    budget = bits_budget * total_params
    if memory_budget_bytes is not None:
        budget = min(budget, memory_budget_bytes * 8)
    allocate_bits(units, group_sens, budget)
    weight_bits = sum(u.params * u.weight * u.bits for u in units)

    group_bits: dict[str, dict[str, float]] = {}
    for stack_name, index, group in group_sens:
        members = [u for u in units if (u.stack, u.block, u.group) == (stack_name, index, group)]
        avg = sum(u.params * u.bits for u in members) / sum(u.params for u in members)
        group_bits.setdefault(f"{stack_name}.{index}", {})[group] = round(avg, 3)

    proxies_pruned, proxies = [], []
    for stack in stacks_of(cfg):
        stack_params = sum(p.numel() for p in instances[stack.name][0].parameters()) * stack.layers
        default_depth = stack.layers if stack_params <= FULL_PROXY_PARAMS else min(stack.layers, 4)
        depth = min(stack.layers, proxy_depth or default_depth)
        progress(f"{stack.name}: whole-stack accuracy proxy over {depth} layers")
        x = held_out[stack.name]
        ref = run_stack(instances[stack.name], x, depth)
        small = pruned[stack.name]
        out_pruned = run_stack(small, x, depth)
        maps = {i: {u.layer: u.bits for u in units if u.stack == stack.name and u.block == i} for i in range(len(small))}
        out_q = run_stack(small, x, depth, wrap=lambda i, s=small, m=maps: quantized(s[i], m[i], ACT_BITS))
        proxies_pruned.append(Proxy(stack=stack.name, depth=depth, cosine=cosine(out_pruned, ref),
                                    rel_mse=rel_mse(out_pruned, ref)))
        proxies.append(Proxy(stack=stack.name, depth=depth, cosine=cosine(out_q, ref), rel_mse=rel_mse(out_q, ref)))

    task = None
    if cfg.trained:
        stack = stacks_of(cfg)[0]
        small = pruned[stack.name]
        maps = [{u.layer: u.bits for u in units if u.stack == stack.name and u.block == i} for i in range(len(small))]
        progress(f"{cfg.trained}: held-out accuracy of the compressed model")
        task = evaluate(cfg.trained, small, maps, finetune_steps, progress)
    sweep_report = None
    if sweep and not (cfg.trained and cfg.stem is None):  # a tabular workload's tokens are its features
        progress("token-budget sweep")
        main = cfg.vision if cfg.stem is not None else cfg.text
        depth = min(main.layers, proxy_depth or 4)
        sweep_report = token_sweep(new_cfg, pruned, batch, seed, depth, macs_budget, profile.batch)
        if macs_budget is not None:
            knee = sweep_report.knee
            new_cfg = with_overrides(new_cfg, seq=knee.seq, image_size=knee.image_size, stride=knee.stride)
            sweep_report.applied = True
    progress("profiling the compressed shapes")
    new_profile = profile_model(new_cfg, batch=profile.batch, calib_tokens=profile.calib_tokens, seed=seed,
                                with_ranges=False)
    _attach_ranges(new_profile, new_cfg, pruned, inputs)
    return CompressedModel(
        source_model=profile.model, bits_budget=bits_budget, weight_bits_avg=weight_bits / total_params,
        weight_bytes_fp16=2 * total_params, weight_bytes=int(weight_bits // 8), bits_map=units,
        group_bits=group_bits, proxies_float_pruned=proxies_pruned, proxies=proxies, pruning=reports,
        sweep=sweep_report, task_accuracy=task, profile=new_profile)


def _attach_ranges(prof: ModelProfile, cfg: ModelConfig, blocks: dict[str, list[M.Block]],
                   inputs: dict[str, torch.Tensor]) -> None:
    """Activation ranges of the compressed block sections, measured on the pruned first block."""
    for stack in stacks_of(cfg):
        block = copy.deepcopy(blocks[stack.name][0])
        measured = trace(block, lambda b=block, x=inputs[stack.name]: b(x), "block", with_ranges=True)
        ranges = {layer.name: layer.ranges for layer in measured}
        for phase in prof.phases:
            for section in phase.sections:
                if section.kind == "block" and section.stack == stack.name and phase.name != "decode":
                    for layer in section.layers:
                        layer.ranges = ranges.get(layer.name)


# --- the compression sweep on a trained workload -----------------------------------------------------
SWEEP_BITS = (8, 6, 4)
SWEEP_PRUNING = ((0, 0.0), (0, 0.5), (1, 0.5))  # (heads removed, MLP fraction removed) per block


class SweepRow(BaseModel):
    bits_budget: float
    prune_heads: int
    prune_mlp: float
    weight_bits_avg: float
    proxy_cosine: float
    accuracy: TaskAccuracy


class AccuracySweep(BaseModel):
    workload: str
    rows: list[SweepRow]
    rank_correlation: float | None  # Spearman: proxy cosine vs compressed held-out accuracy
    rank_correlation_finetuned: float | None  # proxy cosine vs accuracy after quantisation-aware fine-tuning


def accuracy_sweep(profile: ModelProfile, finetune_steps: int = 0, bits: tuple[float, ...] = SWEEP_BITS,
                   pruning: tuple[tuple[int, float], ...] = SWEEP_PRUNING,
                   progress: Callable[[str, int, int], None] = lambda _msg, _done, _total: None) -> AccuracySweep:
    """Every bit budget x pruning level of a trained workload: the proxy cosine next to the real accuracy."""
    if not profile.config.trained:
        raise ValueError(f"the accuracy sweep needs a trained workload ({', '.join(tasks.CONFIGS)})")
    grid = [(b, h, m) for h, m in pruning for b in bits]
    rows = []
    for done, (b, h, m) in enumerate(grid):
        label = f"{b:g} bits, -{h} heads, -{m:.0%} MLP"
        result = compress(profile, bits_budget=b, prune_heads=h, prune_mlp=m, sweep=False,
                          finetune_steps=finetune_steps,
                          progress=lambda msg, label=label, done=done: progress(f"{label}: {msg}", done, len(grid)))
        rows.append(SweepRow(bits_budget=b, prune_heads=h, prune_mlp=m, weight_bits_avg=result.weight_bits_avg,
                             proxy_cosine=result.proxies[0].cosine, accuracy=result.task_accuracy))
    progress("done", len(grid), len(grid))
    proxy = [r.proxy_cosine for r in rows]
    tuned = [r.accuracy.compressed_finetuned_accuracy for r in rows]
    return AccuracySweep(workload=profile.config.trained, rows=rows,
                         rank_correlation=rank_correlation(proxy, [r.accuracy.compressed_accuracy for r in rows]),
                         rank_correlation_finetuned=rank_correlation(proxy, tuned) if finetune_steps else None)
