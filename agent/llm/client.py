"""Model strings -> providers, plus what every call gets: concurrency limit, cost, cache and recording.

Model strings::

    openai/gpt-4o                 OPENAI_API_KEY, OPENAI_BASE_URL honoured (gateways, proxies)
    anthropic/claude-sonnet-4-5   ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL honoured
    ollama/qwen2.5-coder:7b       OLLAMA_BASE_URL   (default http://localhost:11434/v1)
    vllm/NAME                     VLLM_BASE_URL     (default http://localhost:8000/v1)
    llamacpp/NAME                 LLAMACPP_BASE_URL (default http://localhost:8080/v1)
    lmstudio/NAME                 LMSTUDIO_BASE_URL (default http://localhost:1234/v1)
    openai-api/<name>/<model>     <NAME>_BASE_URL (required), <NAME>_API_KEY (optional)
    replay/PATH                   a transcript file (see agent.llm.replay)

API keys are read from the environment only and never logged, cached or recorded.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from agent.llm import pricing
from agent.llm.base import Completion, LLMError, Provider, Request, Usage
from agent.llm.providers import LOCAL_SERVERS, PROVIDERS, SETUP_HINT, base_url, server_down_hint
from agent.llm.providers import concurrency as _concurrency
from agent.llm.replay import HEADER
from verify.paths import cache_dir

__all__ = ["SETUP_HINT", "LLMClient", "ModelRef", "default_model", "make_provider", "parse_model",
           "require_credentials"]


def default_cache_dir() -> Path:
    """The LLM response cache (verify.paths: beside the PPA cache)."""
    return cache_dir("llm")


@dataclass(frozen=True)
class ModelRef:
    provider: str  # openai | anthropic | ollama | vllm | llamacpp | lmstudio | openai-api | replay
    model: str  # model name, or transcript path for replay
    server: str = ""  # <name> of openai-api/<name>/<model>

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.server + '/' if self.server else ''}{self.model}"

    @property
    def price_key(self) -> str:
        return self.server or self.provider


def parse_model(text: str) -> ModelRef:
    provider, _, rest = text.partition("/")
    if not rest:
        raise LLMError("config", f"model string '{text}' needs a provider prefix, e.g. openai/gpt-4o-mini "
                                 f"or ollama/qwen2.5-coder:7b")
    if provider == "openai-api":
        server, _, model = rest.partition("/")
        if not model or not server:
            raise LLMError("config", f"'{text}': use openai-api/<name>/<model> with <NAME>_BASE_URL set")
        return ModelRef(provider, model, server)
    if provider not in PROVIDERS:
        raise LLMError("config", f"unknown provider '{provider}' in '{text}' (known: {', '.join(PROVIDERS)})")
    return ModelRef(provider, rest)


def make_provider(ref: ModelRef, *, timeout_s: float | None = None, max_retries: int = 4) -> Provider:
    """Build the provider for `ref` (timeout: the provider's default unless given); a missing key or server URL
    raises LLMError('config') saying what to set."""
    spec = PROVIDERS[ref.provider]
    return spec.factory(ref, spec.timeout_s if timeout_s is None else timeout_s, max_retries)


_SEMAPHORES: dict[str, threading.BoundedSemaphore] = {}
_SEMAPHORE_LOCK = threading.Lock()


ConcurrencyGate = Callable[[str, int], AbstractContextManager]  # (provider key, limit) -> held during a call
_GATE: list[ConcurrencyGate] = []


def set_concurrency_gate(gate: ConcurrencyGate | None) -> None:
    """Replace this process's per-provider semaphores by a shared gate (several processes or Ray workers calling
    one provider: the limit then holds across all of them, not per worker)."""
    _GATE[:] = [gate] if gate else []


def concurrency_limit(model: str) -> tuple[str, int]:
    """(provider key, HWAGENT_<PROVIDER>_CONCURRENCY or the default) of a model string."""
    ref = parse_model(model)
    return ref.server or ref.provider, _concurrency(ref)


def _semaphore(ref: ModelRef) -> AbstractContextManager:
    key = ref.server or ref.provider
    if _GATE:
        return _GATE[0](key, _concurrency(ref))
    with _SEMAPHORE_LOCK:
        if key not in _SEMAPHORES:
            _SEMAPHORES[key] = threading.BoundedSemaphore(_concurrency(ref))
        return _SEMAPHORES[key]


class LLMClient:
    """One model behind the protocol, with per-provider concurrency limit, cost, cache and recording."""

    def __init__(self, model: str, *, cache_dir: Path | None = None, record_to: Path | None = None,
                 prices: dict[str, tuple[float, float]] | None = None, provider: Provider | None = None,
                 timeout_s: float | None = None, max_retries: int = 4):
        self.ref = parse_model(model)
        self.provider = provider or make_provider(self.ref, timeout_s=timeout_s, max_retries=max_retries)
        self.per_mtok = pricing.price(self.ref.price_key, self.ref.model, pricing.load_overrides() | (prices or {}))
        self.cache_dir = None if self.ref.provider == "replay" else cache_dir
        self.record_to = record_to
        self.usage = Usage()
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return self.ref.label

    def seek(self, calls: int) -> None:
        """After a resume: a replayed transcript continues after the `calls` exchanges already used."""
        self.calls = calls
        if hasattr(self.provider, "seek"):
            self.provider.seek(calls)

    def complete(self, request: Request) -> Completion:
        key = request.key(self.ref.label, self.provider.endpoint)
        completion = self._cached(key)
        if completion is None:
            with _semaphore(self.ref):
                completion = self.provider.complete(request)
            completion.usage.cost_usd = pricing.cost(completion.usage, self.per_mtok)
            self._store(key, completion)
        with self._lock:
            self.calls += 0 if completion.cached else 1
            self.usage += completion.usage
        self._record(request, completion)
        return completion

    def _cached(self, key: str) -> Completion | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / key[:2] / f"{key}.json"
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        usage = Usage(**data["usage"])
        return Completion(data["texts"], usage, data["model"], cached=True, finish_reasons=data["finish_reasons"])

    def _store(self, key: str, completion: Completion) -> None:
        if self.cache_dir is None:
            return
        path = self.cache_dir / key[:2] / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"texts": completion.texts, "model": completion.model,
                                   "finish_reasons": completion.finish_reasons,
                                   "usage": vars(completion.usage)}))
        tmp.replace(path)

    def _record(self, request: Request, completion: Completion) -> None:
        if self.record_to is None:
            return
        with self._lock:
            fresh = not self.record_to.exists()
            with self.record_to.open("a") as out:
                if fresh:
                    scripted = bool(getattr(self.provider, "scripted", False))
                    note = "recorded by hwagent run" + (" from a SCRIPTED transcript" if scripted else "")
                    out.write(json.dumps(HEADER | {"scripted": scripted, "description": note}) + "\n")
                out.write(json.dumps({"model": self.label, "cached": completion.cached,
                                      "request": request.to_dict(),
                                      "response": {"texts": completion.texts, "usage": vars(completion.usage),
                                                   "finish_reasons": completion.finish_reasons},
                                      "latency_s": round(completion.latency_s, 3), "time": time.time()}) + "\n")


def require_credentials(model: str) -> None:
    """Fail fast (LLMError 'config') when the model's key or local server is missing; one line says what to do."""
    ref = parse_model(model)
    if ref.provider in LOCAL_SERVERS or ref.provider == "openai-api":
        base = base_url(ref)
        if not base:
            make_provider(ref)
        if not _reachable(base):
            raise LLMError("config", server_down_hint(ref, base))
        return
    make_provider(ref)


def _reachable(base_url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=3)
    except urllib.error.HTTPError:
        return True  # something answers; auth or routing issues surface on the first call
    except (OSError, ValueError):
        return False
    return True


def default_model() -> str | None:
    """The model used when --llm is not given: whichever provider is configured, else None."""
    if os.environ.get("HWAGENT_LLM"):
        return os.environ["HWAGENT_LLM"]
    if os.environ.get("OPENAI_API_KEY"):
        return "openai/gpt-4o-mini"
    if os.environ.get("ANTHROPIC_API_KEY"):
        return "anthropic/claude-sonnet-4-6"
    return None
