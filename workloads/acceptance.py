"""Acceptance rate of a draft model for speculative decoding, measured from two real checkpoints.

Sequences are sampled from the target (random prompt tokens, then `new_tokens` tokens sampled from the
target at `temperature`); both models then score every sampled position (teacher forcing). The acceptance
probability of a draft token at a position is sum_x min(p(x), q(x)) = 1 - TV(p, q) for target p and draft q
(speculative sampling, Leviathan et al. 2023); alpha is its mean over the sampled positions. The greedy
agreement (argmax p == argmax q) is reported beside it. Vocabularies are compared over their common prefix
(padded embedding rows beyond it are unused). Needs `transformers` (pip install 'hwagent[transformers]');
checkpoints are read from local folders only.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import BaseModel

from workloads.hf import CheckpointError


class AcceptanceReport(BaseModel):
    target: str
    draft: str
    alpha: float
    greedy_agreement: float
    samples: int
    prompt_tokens: int
    new_tokens: int
    positions: int
    vocab: int
    temperature: float
    method: str = "mean over target-sampled positions of sum_x min(p_target(x), q_draft(x))"


def load_causal_lm(folder: str | Path):
    """A local HuggingFace causal LM (float32, eval mode, CPU); one-line errors."""
    try:
        from transformers import AutoModelForCausalLM
    except ImportError:
        raise CheckpointError("measuring the acceptance rate needs `transformers` "
                              "(pip install 'hwagent[transformers]')") from None
    try:
        return AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, local_files_only=True).eval()
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{folder}: cannot load a causal LM ({str(exc).splitlines()[0]})") from None


def _probs(model, ids: torch.Tensor, start: int, vocab: int, temperature: float) -> torch.Tensor:
    """Next-token distributions at positions start-1 .. len-2 (those that predict ids[:, start:])."""
    logits = model(ids).logits[:, start - 1 : -1, :vocab]
    return torch.softmax(logits.double() / temperature, dim=-1)


def acceptance_of(target, draft, ids: torch.Tensor, prompt_tokens: int, vocab: int,
                  temperature: float = 1.0) -> tuple[float, float]:
    """(alpha, greedy agreement) of `draft` against `target` on the continuation tokens of `ids`."""
    with torch.no_grad():
        p = _probs(target, ids, prompt_tokens, vocab, temperature)
        q = _probs(draft, ids, prompt_tokens, vocab, temperature)
    alpha = torch.minimum(p, q).sum(-1).mean().item()
    greedy = (p.argmax(-1) == q.argmax(-1)).double().mean().item()
    return alpha, greedy


def sample_from(model, prompts: torch.Tensor, new_tokens: int, vocab: int, temperature: float,
                gen: torch.Generator) -> torch.Tensor:
    ids = prompts
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(ids).logits[:, -1, :vocab].double() / temperature
            nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen)
            ids = torch.cat([ids, nxt], dim=1)
    return ids


def measure_acceptance(target_dir: str | Path, draft_dir: str | Path, samples: int = 8, prompt_tokens: int = 16,
                       new_tokens: int = 32, temperature: float = 1.0, seed: int = 0) -> AcceptanceReport:
    """Alpha of the draft checkpoint against the target checkpoint on sequences sampled from the target."""
    if samples < 1 or prompt_tokens < 1 or new_tokens < 1 or temperature <= 0:
        raise ValueError("samples, prompt_tokens and new_tokens must be >= 1 and temperature > 0")
    target, draft = load_causal_lm(target_dir), load_causal_lm(draft_dir)
    vocab = min(target.config.vocab_size, draft.config.vocab_size)
    gen = torch.Generator().manual_seed(seed)
    prompts = torch.randint(0, vocab, (samples, prompt_tokens), generator=gen)
    ids = sample_from(target, prompts, new_tokens, vocab, temperature, gen)
    alpha, greedy = acceptance_of(target, draft, ids, prompt_tokens, vocab, temperature)
    return AcceptanceReport(target=str(target_dir), draft=str(draft_dir), alpha=alpha, greedy_agreement=greedy,
                            samples=samples, prompt_tokens=prompt_tokens, new_tokens=new_tokens,
                            positions=samples * new_tokens, vocab=vocab, temperature=temperature)
