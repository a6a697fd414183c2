"""`replay/PATH`: answers from a transcript file, in order; refuses loudly when the conversation diverges.

A transcript is JSON Lines. The first line is a header::

    {"transcript": "hwagent", "version": 1, "scripted": false, "description": "..."}

`scripted: true` marks a hand-written fixture (tests, `make demo`), `false` a recording of a real run.
Every further line is one exchange (one `complete()` call)::

    {"request": {...Request.to_dict()...}, "response": {"texts": [...], "usage": {...}, "finish_reasons": [...]}, "model": "..."}

Matching: an exchange with `request` must match the live request exactly (messages, n, temperature,
max_tokens, stop); a scripted exchange may instead carry `expect: ["substring", ...]`, strings that must all
occur in the last user message, and `expect_n`. An exchange with `error: {"kind": ..., "message": ...}`
raises that LLMError (to replay a provider outage).

Order: exchanges are answered in file order, unless the header says `"order": "keyed"`: then each call takes the
exchange whose `expect` strings all occur in the prompt, whose `seed` (if given) is the request's and whose `call`
(default 0) is this client's call number. Keyed transcripts serve many independent conversations at once, as
`hwagent eval run` needs (each (problem, sample) has its own client, possibly in another process).
"""

from __future__ import annotations

import difflib
import json
import threading
from pathlib import Path

from agent.llm.base import Completion, LLMError, Request, Usage

HEADER = {"transcript": "hwagent", "version": 1}


class ReplayDivergence(LLMError):
    def __init__(self, message: str, provider: str):
        super().__init__("divergence", message, provider)


def read_transcript(path: Path) -> tuple[dict, list[dict]]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise LLMError("config", f"cannot read transcript {path}: {exc.strerror}", "replay") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise LLMError("config", f"{path}:{number}: not JSON ({exc.msg})", "replay") from None
    if not records or records[0].get("transcript") != "hwagent":
        raise LLMError("config", f"{path}: not an hwagent transcript (missing header line)", "replay")
    return records[0], records[1:]


class Replay:
    def __init__(self, name: str, path: str | Path):
        self.name, self.path = name, Path(path)
        self.header, self.exchanges = read_transcript(self.path)
        self.model = self.header.get("model", "replay")
        self.endpoint = str(self.path.resolve())
        self.position = 0
        self._lock = threading.Lock()

    @property
    def scripted(self) -> bool:
        return bool(self.header.get("scripted"))

    def seek(self, position: int) -> None:
        """Continue from exchange `position` (used when resuming a checkpointed run)."""
        self.position = position

    def complete(self, request: Request) -> Completion:
        with self._lock:
            index = self._keyed(request) if self.header.get("order") == "keyed" else self.position
            if index >= len(self.exchanges):
                raise ReplayDivergence(f"{self.path}: the run asks for exchange {index + 1} but the transcript "
                                       f"has only {len(self.exchanges)}", self.name)
            exchange = self.exchanges[index]
            self._check(index, exchange, request)
            self.position += 1
        if "error" in exchange:
            raise LLMError(exchange["error"].get("kind", "server"), exchange["error"].get("message", "replayed"),
                           self.name)
        response = exchange["response"]
        texts = list(response["texts"])
        if len(texts) != request.n:
            raise ReplayDivergence(f"{self.path}: exchange {index + 1} has {len(texts)} answers, the run asks "
                                   f"for {request.n}", self.name)
        usage = response.get("usage", {})
        return Completion(texts, Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
                          exchange.get("model", self.name), finish_reasons=list(response.get("finish_reasons", [])))

    def _keyed(self, request: Request) -> int:
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        for index, exchange in enumerate(self.exchanges):
            if exchange.get("call", 0) == self.position and exchange.get("seed", request.seed) == request.seed \
                    and all(text in last_user for text in exchange.get("expect", [])):
                return index
        raise ReplayDivergence(f"{self.path}: no exchange for call {self.position + 1} (seed {request.seed}) "
                               f"matches the prompt, which ends with:\n{last_user[-800:]}", self.name)

    def _check(self, index: int, exchange: dict, request: Request) -> None:
        where = f"{self.path}: exchange {index + 1}"
        if "request" in exchange:
            recorded = exchange["request"]
            live = request.to_dict()
            if recorded != live:
                raise ReplayDivergence(f"{where} diverges from the live request:\n{_diff(recorded, live)}", self.name)
            return
        if "expect_n" in exchange and exchange["expect_n"] != request.n:
            raise ReplayDivergence(f"{where} expects n={exchange['expect_n']}, the run asks for n={request.n}",
                                   self.name)
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        missing = [text for text in exchange.get("expect", []) if text not in last_user]
        if missing:
            excerpt = last_user[-1500:]
            raise ReplayDivergence(f"{where}: the prompt lacks {missing!r}; prompt ends with:\n{excerpt}", self.name)


def _diff(recorded: dict, live: dict) -> str:
    """Where the live request departs from the recorded one: the first differing field or message, line by line."""
    for key in ("n", "temperature", "max_tokens", "stop"):
        if recorded.get(key) != live.get(key):
            return f"{key}: transcript {recorded.get(key)!r}, live {live.get(key)!r}"
    old, new = recorded["messages"], live["messages"]
    if len(old) != len(new):
        return f"the transcript has {len(old)} messages, the live request {len(new)}"
    for index, (a, b) in enumerate(zip(old, new)):
        if a != b:
            lines = difflib.unified_diff(a["content"].splitlines(), b["content"].splitlines(),
                                         f"transcript message {index + 1} ({a['role']})",
                                         f"live message {index + 1} ({b['role']})", lineterm="", n=1)
            return "\n".join(list(lines)[:30])
    return "requests differ"
