"""Price per million tokens (USD, input / output) for cost accounting; override with HWAGENT_PRICES.

HWAGENT_PRICES names a YAML or JSON file `{model: {input: X, output: Y}}` (model without provider prefix,
or with it, e.g. `openai/gpt-4o`); its entries win over the built-in table. Local servers and replays cost 0.
Prices are list prices at the time of writing; check your provider's page for current ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from agent.llm.base import Usage

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4-0": (3.00, 15.00),
    "claude-sonnet-4-6": (3.00, 15.00),  # assumed equal to Sonnet 4.5; override if it differs
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku-latest": (0.80, 4.00),
}
FREE_PROVIDERS = {"ollama", "vllm", "llamacpp", "lmstudio", "replay"}


def load_overrides(path: str | None = None) -> dict[str, tuple[float, float]]:
    path = path or os.environ.get("HWAGENT_PRICES")
    if not path:
        return {}
    data = yaml.safe_load(Path(path).read_text()) or {}
    return {model: (float(p["input"]), float(p["output"])) for model, p in data.items()}


def price(provider: str, model: str, overrides: dict[str, tuple[float, float]] | None = None
          ) -> tuple[float, float] | None:
    table = PRICES_PER_MTOK | (overrides or {})
    for key in (f"{provider}/{model}", model):
        if key in table:
            return table[key]
    if provider in FREE_PROVIDERS:
        return (0.0, 0.0)
    # dated snapshots (gpt-4o-2024-08-06, claude-sonnet-4-5-20250929) cost what their family costs
    family = max((k for k in table if model.startswith(k + "-")), key=len, default=None)
    return table[family] if family else None


def cost(usage: Usage, per_mtok: tuple[float, float] | None) -> float | None:
    if per_mtok is None:
        return None
    return (usage.prompt_tokens * per_mtok[0] + usage.completion_tokens * per_mtok[1]) / 1e6


def unpriced(models: list[str]) -> list[str]:
    """The model strings with no known price (a budget in USD cannot be enforced for them)."""
    from agent.llm.client import parse_model

    overrides = load_overrides()
    return [m for m in models if price(parse_model(m).price_key, parse_model(m).model, overrides) is None]
