"""Anthropic Messages API through the official SDK (honours ANTHROPIC_BASE_URL like the SDK)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import anthropic

from agent.llm.base import Completion, LLMError, Request, Usage
from agent.llm.openai_chat import translate


class AnthropicMessages:
    """`anthropic/<model>`. Messages has no `n`: n samples are n calls (bounded by the caller's limit).

    The Messages API of this SDK generation takes no `temperature` or `top_p`; samples differ by the model's own
    sampling.
    """

    def __init__(self, name: str, model: str, api_key: str, base_url: str | None = None, *,
                 timeout_s: float = 120.0, max_retries: int = 4, parallel: int = 4):
        self.name, self.model = name, model
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout_s,
                                           max_retries=max_retries)
        self.endpoint = str(self._client.base_url)
        self._parallel = parallel

    def complete(self, request: Request) -> Completion:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, min(request.n, self._parallel))) as pool:
            results = list(pool.map(lambda _: self._one(request), range(request.n)))
        usage = Usage()
        for _, _, part in results:
            usage += part
        return Completion([text for text, _, _ in results], usage, self.name, latency_s=time.monotonic() - start,
                          finish_reasons=[reason for _, reason, _ in results])

    def _one(self, request: Request) -> tuple[str, str, Usage]:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        kwargs = {"model": self.model, "max_tokens": request.max_tokens,
                  "messages": [{"role": m.role, "content": m.content} for m in request.messages
                               if m.role != "system"]}
        if system:
            kwargs["system"] = system
        if request.stop:
            kwargs["stop_sequences"] = list(request.stop)
        try:
            response = self._client.messages.create(**kwargs)
        except anthropic.APIError as exc:
            raise translate(exc, self.name) from None
        except ValueError as exc:  # the body is not JSON (the SDK lets json.JSONDecodeError through)
            raise LLMError("malformed", f"response is not valid JSON: {exc}", self.name) from None
        blocks = getattr(response, "content", None)
        if blocks is None:
            raise LLMError("malformed", "response has no content", self.name)
        text = "".join(getattr(block, "text", "") or "" for block in blocks if getattr(block, "type", "") == "text")
        usage = response.usage
        tokens = Usage(getattr(usage, "input_tokens", 0) or 0, getattr(usage, "output_tokens", 0) or 0)
        return text, str(response.stop_reason or ""), tokens
