"""Price per million tokens (USD, input / output) for cost accounting: the packaged `prices.yaml`, overridden by
HWAGENT_PRICES.

HWAGENT_PRICES names a YAML or JSON file `{model: {input: X, output: Y}}` (model without provider prefix,
or with it, e.g. `openai/gpt-4o`); its entries win over the packaged table. Local servers and replays cost 0.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import yaml

from agent.llm.base import LLMError, Usage
from agent.llm.providers import PROVIDERS

PRICES_FILE = resources.files("agent.llm") / "prices.yaml"


def _read(text: str, origin: str) -> dict[str, tuple[float, float]]:
    try:
        data = yaml.safe_load(text) or {}
        return {model: (float(p["input"]), float(p["output"])) for model, p in data.items()}
    except (yaml.YAMLError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise LLMError("config", f"{origin}: each entry needs {{input: X, output: Y}} ({exc})") from None


PRICES_PER_MTOK: dict[str, tuple[float, float]] = _read(PRICES_FILE.read_text(), "agent/llm/prices.yaml")


def load_overrides(path: str | None = None) -> dict[str, tuple[float, float]]:
    path = path or os.environ.get("HWAGENT_PRICES")
    if not path:
        return {}
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise LLMError("config", f"HWAGENT_PRICES={path}: {exc.strerror}") from None
    return _read(text, f"HWAGENT_PRICES={path}")


def price(provider: str, model: str, overrides: dict[str, tuple[float, float]] | None = None
          ) -> tuple[float, float] | None:
    table = PRICES_PER_MTOK | (overrides or {})
    for key in (f"{provider}/{model}", model):
        if key in table:
            return table[key]
    if provider in PROVIDERS and PROVIDERS[provider].free:
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
