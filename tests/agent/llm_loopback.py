"""A real HTTP server on 127.0.0.1 that plays scripted replies, for testing the SDK-backed providers."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict = b"{}"
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0


class LoopbackServer:
    """Serves `replies` in order (the last one repeats), or what `respond(path, body)` returns for each request;
    records every request (path, headers, JSON body)."""

    def __init__(self, replies: list[Reply] = (), respond=None):
        self.replies = list(replies)
        self.respond = respond
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self._send(Reply(200, {"object": "list", "data": []}))

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                with server._lock:
                    server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                            "body": json.loads(raw or b"{}")})
                    if server.respond is not None:
                        reply = server.respond(self.path, server.requests[-1]["body"])
                    else:
                        reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(reply.delay_s)
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, reply: Reply):
                body = json.dumps(reply.body).encode() if isinstance(reply.body, dict) else reply.body
                self.send_response(reply.status)
                headers = {"content-type": "application/json"} | reply.headers
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def openai_chat(texts: list[str], prompt_tokens: int = 100, completion_tokens: int = 50) -> dict:
    """A Chat Completions response body as the OpenAI API sends it."""
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
            "choices": [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                         "logprobs": None} for i, text in enumerate(texts)],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def anthropic_message(text: str, input_tokens: int = 100, output_tokens: int = 50) -> dict:
    """A Messages API response body as the Anthropic API sends it."""
    return {"id": "msg_test", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}


def rate_limited(kind: str = "openai") -> Reply:
    body = ({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
            if kind == "openai" else {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
    return Reply(429, body, {"retry-after-ms": "10"})


def server_error(kind: str = "openai") -> Reply:
    body = ({"error": {"message": "The server had an error", "type": "server_error"}}
            if kind == "openai" else {"type": "error", "error": {"type": "api_error", "message": "Internal"}})
    return Reply(500, body, {"retry-after-ms": "10"})
