"""The one LLM protocol every provider implements: messages in, texts + usage out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]
ErrorKind = Literal["config", "auth", "rate_limit", "server", "timeout", "connection", "malformed", "divergence",
                    "context_length"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Request:
    """One completion request: `n` independent samples of the answer to `messages`."""

    messages: tuple[Message, ...]
    n: int = 1
    temperature: float = 0.2
    max_tokens: int = 4096
    stop: tuple[str, ...] = ()
    top_p: float | None = None  # None: the provider's default
    seed: int | None = None  # sample index of a repeated request: distinct samples, distinct cache entries

    def to_dict(self) -> dict:
        data = {"messages": [asdict(m) for m in self.messages], "n": self.n, "temperature": self.temperature,
                "max_tokens": self.max_tokens, "stop": list(self.stop)}
        return data | {k: v for k, v in (("top_p", self.top_p), ("seed", self.seed)) if v is not None}

    def key(self, model: str, endpoint: str = "") -> str:
        """Cache key over everything that determines the answer (never the API key)."""
        blob = json.dumps({"model": model, "endpoint": endpoint} | self.to_dict(), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None: no price known for this model

    def __add__(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens,
                     cost)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Completion:
    texts: list[str]
    usage: Usage
    model: str
    cached: bool = False
    latency_s: float = 0.0
    finish_reasons: list[str] = field(default_factory=list)


class LLMError(RuntimeError):
    """A provider call that failed after the SDK's retries; `kind` says why.

    kinds (ErrorKind): config (missing key/server), auth, rate_limit, server, timeout, connection, malformed,
    divergence (a replayed transcript does not match), context_length (the prompt exceeds the model's window).
    """

    def __init__(self, kind: ErrorKind, message: str, provider: str = ""):
        super().__init__(f"{provider + ': ' if provider else ''}{kind}: {message}")
        self.kind = kind
        self.message = message
        self.provider = provider


class Provider(Protocol):
    """An LLM backend. `name` is the model string it was built from (e.g. `openai/gpt-4o`)."""

    name: str
    model: str
    endpoint: str  # base URL or transcript path; part of the cache key

    def complete(self, request: Request) -> Completion: ...
