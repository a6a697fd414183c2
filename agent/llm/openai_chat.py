"""OpenAI Chat Completions through the official SDK; also serves OpenAI-compatible local servers."""

from __future__ import annotations

import re
import time

import openai

from agent.llm.base import Completion, LLMError, Request, Usage


class OpenAIChat:
    """`openai/<model>` (honours OPENAI_BASE_URL like the SDK) or any server speaking the same wire format."""

    def __init__(self, name: str, model: str, api_key: str, base_url: str | None = None, *,
                 timeout_s: float = 120.0, max_retries: int = 4, native_n: bool = True):
        self.name, self.model = name, model
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries)
        self.endpoint = str(self._client.base_url)
        self._native_n = native_n  # local servers often ignore `n`: ask n times instead

    def complete(self, request: Request) -> Completion:
        start = time.monotonic()
        calls = [request.n] if self._native_n else [1] * request.n
        texts, reasons, usage = [], [], Usage()
        for n in calls:
            response = self._call(request, n)
            choices = getattr(response, "choices", None)
            if not choices:
                raise LLMError("malformed", "response has no choices", self.name)
            for choice in choices:
                message = getattr(choice, "message", None)
                texts.append((message.content if message is not None else None) or "")
                reasons.append(str(choice.finish_reason or ""))
            if response.usage is not None:
                usage += Usage(response.usage.prompt_tokens or 0, response.usage.completion_tokens or 0)
        return Completion(texts, usage, self.name, latency_s=time.monotonic() - start, finish_reasons=reasons)

    def _call(self, request: Request, n: int):
        kwargs = {"model": self.model, "messages": [{"role": m.role, "content": m.content} for m in request.messages],
                  "temperature": request.temperature, "max_tokens": request.max_tokens}
        if n != 1:
            kwargs["n"] = n
        if request.stop:
            kwargs["stop"] = list(request.stop)
        kwargs |= {k: v for k, v in (("top_p", request.top_p), ("seed", request.seed)) if v is not None}
        try:
            return self._client.chat.completions.create(**kwargs)
        except openai.APIError as exc:
            raise translate(exc, self.name) from None
        except ValueError as exc:  # the body is not JSON (the SDK lets json.JSONDecodeError through)
            raise LLMError("malformed", f"response is not valid JSON: {exc}", self.name) from None


_CONTEXT_CODES = {"context_length_exceeded", "exceed_context_size_error"}  # OpenAI / llama_cpp.server, llama-server
_CONTEXT_WORDS = re.compile(r"context (length|window|size)|maximum context|too many tokens|prompt is too long", re.IGNORECASE)


def _over_context(exc: Exception) -> bool:
    """A 400 saying the prompt does not fit the model's context window (each server words it its own way)."""
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else {}
    codes = {str(error.get(k)) for k in ("code", "type")} if isinstance(error, dict) else set()
    return getattr(exc, "status_code", None) == 400 and bool(codes & _CONTEXT_CODES
                                                             or _CONTEXT_WORDS.search(str(exc)))


def translate(exc: Exception, provider: str) -> LLMError:
    """Map an SDK exception (openai or anthropic; same class layout) to an LLMError kind."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if name == "APITimeoutError":
        kind = "timeout"
    elif name == "APIConnectionError":
        kind = "connection"
    elif _over_context(exc):
        kind = "context_length"
    elif name == "APIResponseValidationError" or (status is None and "JSON" in str(exc)):
        kind = "malformed"
    elif status == 429:
        kind = "rate_limit"
    elif status in (401, 403):
        kind = "auth"
    elif status is not None and status >= 500:
        kind = "server"
    else:
        kind = f"http_{status}" if status else "api"
    detail = str(getattr(exc, "message", "") or exc).splitlines()[0][:300]
    return LLMError(kind, detail, provider)
