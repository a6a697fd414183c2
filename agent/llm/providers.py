"""The provider table: provider name -> how to build it, its local server (default URL, start command), its
concurrency default and whether it is free. A new provider is one row here."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.llm.base import LLMError, Provider

if TYPE_CHECKING:
    from agent.llm.client import ModelRef

SETUP_HINT = ("set OPENAI_API_KEY or ANTHROPIC_API_KEY, or start a local server (e.g. `ollama serve` and "
              "--llm ollama/qwen2.5-coder:7b), or replay a transcript with --llm replay/PATH")

Factory = Callable[["ModelRef", float, int], Provider]  # (ref, timeout_s, max_retries) -> provider


@dataclass(frozen=True)
class ProviderSpec:
    factory: Factory
    concurrency: int = 1  # default for HWAGENT_<PROVIDER>_CONCURRENCY
    free: bool = False  # local servers and replays cost nothing
    default_url: str = ""  # OpenAI-compatible base URL of a local server (<PROVIDER>_BASE_URL overrides it)
    start: str = ""  # the command that starts the local server
    models_url: str = ""  # where the server lists its models (default: <base>/models)
    timeout_s: float = 120.0  # per request; a CPU-only local model writing 4096 tokens takes minutes


def env_name(server: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in server).upper()


def _replay(ref: ModelRef, timeout_s: float, max_retries: int) -> Provider:
    from agent.llm.replay import Replay

    return Replay(ref.label, ref.model)


def _anthropic(ref: ModelRef, timeout_s: float, max_retries: int) -> Provider:
    from agent.llm.anthropic_messages import AnthropicMessages

    key = os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise LLMError("config", f"ANTHROPIC_API_KEY is not set for {ref.label}; {SETUP_HINT}")
    return AnthropicMessages(ref.label, ref.model, key, None, timeout_s=timeout_s, max_retries=max_retries,
                             parallel=concurrency(ref))


def _openai(ref: ModelRef, timeout_s: float, max_retries: int) -> Provider:
    from agent.llm.openai_chat import OpenAIChat

    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        raise LLMError("config", f"OPENAI_API_KEY is not set for {ref.label}; {SETUP_HINT}")
    return OpenAIChat(ref.label, ref.model, key, None, timeout_s=timeout_s, max_retries=max_retries)


def _openai_api(ref: ModelRef, timeout_s: float, max_retries: int) -> Provider:
    from agent.llm.openai_chat import OpenAIChat

    var = env_name(ref.server)
    base = os.environ.get(f"{var}_BASE_URL")
    if not base:
        raise LLMError("config", f"{var}_BASE_URL is not set for {ref.label} "
                                 f"(e.g. export {var}_BASE_URL=http://localhost:8000/v1)")
    return OpenAIChat(ref.label, ref.model, os.environ.get(f"{var}_API_KEY", "not-needed"), base,
                      timeout_s=timeout_s, max_retries=max_retries, native_n=True)


def _local(native_n: bool) -> Factory:
    def build(ref: ModelRef, timeout_s: float, max_retries: int) -> Provider:
        from agent.llm.openai_chat import OpenAIChat

        var = env_name(ref.provider)
        return OpenAIChat(ref.label, ref.model, os.environ.get(f"{var}_API_KEY", "not-needed"), base_url(ref),
                          timeout_s=timeout_s, max_retries=max_retries, native_n=native_n)
    return build


LOCAL_TIMEOUT_S = 900.0  # measured: SmolLM2 at 7 tokens/s on a loaded 2-core CPU timed out at 120 s per request
PROVIDERS: dict[str, ProviderSpec] = {
    "openai": ProviderSpec(_openai, concurrency=8),
    "anthropic": ProviderSpec(_anthropic, concurrency=4),
    "ollama": ProviderSpec(_local(False), free=True, timeout_s=LOCAL_TIMEOUT_S, default_url="http://localhost:11434/v1",
                           start="ollama serve",
                           models_url="http://localhost:11434/api/tags"),
    "llamacpp": ProviderSpec(_local(False), free=True, timeout_s=LOCAL_TIMEOUT_S, default_url="http://localhost:8080/v1",
                             start="python -m llama_cpp.server --model MODEL.gguf --port 8080"),
    "vllm": ProviderSpec(_local(True), free=True, timeout_s=LOCAL_TIMEOUT_S, default_url="http://localhost:8000/v1",
                         start="vllm serve Qwen/Qwen2.5-Coder-7B-Instruct --port 8000"),
    "lmstudio": ProviderSpec(_local(False), free=True, timeout_s=LOCAL_TIMEOUT_S, default_url="http://localhost:1234/v1",
                             start="lms server start --port 1234"),
    "openai-api": ProviderSpec(_openai_api),
    "replay": ProviderSpec(_replay, free=True),
}
LOCAL_SERVERS = {name: spec.default_url for name, spec in PROVIDERS.items() if spec.default_url}


def base_url(ref: ModelRef) -> str:
    """<NAME>_BASE_URL, else the local server's default URL ('' for openai-api without its variable)."""
    return os.environ.get(f"{env_name(ref.server or ref.provider)}_BASE_URL",
                          PROVIDERS[ref.provider].default_url)


def concurrency(ref: ModelRef) -> int:
    var = f"HWAGENT_{env_name(ref.server or ref.provider)}_CONCURRENCY"
    return int(os.environ.get(var, PROVIDERS[ref.provider].concurrency))


def server_down_hint(ref: ModelRef, base: str) -> str:
    """One line: nothing answers at `base`; the command that starts this provider's server, or the variable."""
    var = f"{env_name(ref.server or ref.provider)}_BASE_URL"
    start = PROVIDERS[ref.provider].start
    how = f"start it with `{start}`" if start else "start the server"
    return f"no server answers at {base} for {ref.label}: {how}, or set {var}"


def local_servers(timeout_s: float = 1.0) -> list[dict]:
    """Each local provider's server at <NAME>_BASE_URL or its default port: up or down, and the models it lists
    (`/v1/models`, Ollama's `/api/tags`)."""
    from agent.llm.client import ModelRef

    found = []
    for name, spec in PROVIDERS.items():
        if not spec.default_url:
            continue
        base = base_url(ModelRef(name, ""))
        overridden = base != spec.default_url
        url = spec.models_url if spec.models_url and not overridden else base.rstrip("/") + "/models"
        models = _list_models(url, timeout_s)
        found.append({"provider": name, "url": base, "up": models is not None, "models": models or [],
                      "start": spec.start})
    return found


def _list_models(url: str, timeout_s: float) -> list[str] | None:
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            data = json.load(response)
    except urllib.error.HTTPError:
        return []  # something answers there
    except (OSError, ValueError):
        return None
    entries = (data.get("data") or data.get("models") or []) if isinstance(data, dict) else []
    return [str(m.get("id") or m.get("name")) for m in entries if isinstance(m, dict)]
