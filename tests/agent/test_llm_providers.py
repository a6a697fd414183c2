"""SDK-backed providers against real HTTP servers on loopback speaking each vendor's wire format."""

from __future__ import annotations

import json
import threading

import pytest
from llm_loopback import LoopbackServer, Reply, anthropic_message, openai_chat, rate_limited, server_error

from agent.llm import LLMClient, LLMError, Message, Request
from agent.llm.anthropic_messages import AnthropicMessages
from agent.llm.client import make_provider, parse_model
from agent.llm.openai_chat import OpenAIChat
from agent.llm.replay import Replay

SECRET = "sk-test-SECRET-never-written"
REQUEST = Request((Message("system", "You write Verilog."), Message("user", "Write a module.")), n=1,
                  temperature=0.0, max_tokens=256, stop=("[DONE]",))
ANSWER = "Here it is:\n```verilog\nmodule top(output y); assign y = 1'b1; endmodule\n```"


def openai_provider(server, **kw):
    return OpenAIChat("openai/gpt-4o-mini", "gpt-4o-mini", SECRET, server.url + "/v1",
                      timeout_s=kw.pop("timeout_s", 5), max_retries=kw.pop("max_retries", 2), **kw)


def anthropic_provider(server, **kw):
    return AnthropicMessages("anthropic/claude-haiku-4-5", "claude-haiku-4-5", SECRET, server.url,
                             timeout_s=kw.pop("timeout_s", 5), max_retries=kw.pop("max_retries", 2), **kw)


PROVIDERS = {"openai": (openai_provider, lambda text: openai_chat([text])),
             "anthropic": (anthropic_provider, anthropic_message)}


@pytest.mark.parametrize("vendor", PROVIDERS)
def test_success_wire_format_and_usage(vendor):
    build, body = PROVIDERS[vendor]
    with LoopbackServer([Reply(200, body(ANSWER))]) as server:
        completion = build(server).complete(REQUEST)
    assert completion.texts == [ANSWER]
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (100, 50)
    sent = server.requests[0]
    if vendor == "openai":
        assert sent["path"] == "/v1/chat/completions"
        assert sent["headers"]["authorization"] == f"Bearer {SECRET}"
        assert sent["body"]["messages"][0] == {"role": "system", "content": "You write Verilog."}
        assert sent["body"]["stop"] == ["[DONE]"] and sent["body"]["max_tokens"] == 256
    else:
        assert sent["path"] == "/v1/messages"
        assert SECRET in (sent["headers"].get("x-api-key", ""), sent["headers"].get("authorization", "")[7:])
        assert "anthropic-version" in sent["headers"]
        assert sent["body"]["system"] == "You write Verilog."
        assert sent["body"]["messages"] == [{"role": "user", "content": "Write a module."}]
        assert sent["body"]["stop_sequences"] == ["[DONE]"]


@pytest.mark.parametrize("vendor", PROVIDERS)
def test_429_then_success_is_retried_by_the_sdk(vendor):
    build, body = PROVIDERS[vendor]
    with LoopbackServer([rate_limited(vendor), rate_limited(vendor), Reply(200, body(ANSWER))]) as server:
        completion = build(server, max_retries=3).complete(REQUEST)
    assert completion.texts == [ANSWER]
    assert len(server.requests) == 3


@pytest.mark.parametrize("vendor", PROVIDERS)
def test_persistent_500_raises_server_error_after_retries(vendor):
    build, _ = PROVIDERS[vendor]
    with LoopbackServer([server_error(vendor)]) as server, pytest.raises(LLMError) as info:
        build(server, max_retries=1).complete(REQUEST)
    assert info.value.kind == "server"
    assert len(server.requests) == 2  # first try + one retry


@pytest.mark.parametrize("vendor", PROVIDERS)
def test_timeout(vendor):
    build, body = PROVIDERS[vendor]
    with LoopbackServer([Reply(200, body(ANSWER), delay_s=3)]) as server, pytest.raises(LLMError) as info:
        build(server, timeout_s=0.3, max_retries=0).complete(REQUEST)
    assert info.value.kind == "timeout"


@pytest.mark.parametrize("vendor", PROVIDERS)
def test_malformed_json(vendor):
    build, _ = PROVIDERS[vendor]
    with LoopbackServer([Reply(200, b'{"choices": [ {"message": ')]) as server, pytest.raises(LLMError) as info:
        build(server, max_retries=0).complete(REQUEST)
    assert info.value.kind == "malformed"


@pytest.mark.parametrize("vendor", PROVIDERS)
def test_json_without_answer_fields_is_malformed(vendor):
    build, _ = PROVIDERS[vendor]
    with (LoopbackServer([Reply(200, {"id": "x", "object": "chat.completion"})]) as server,
          pytest.raises(LLMError) as info):
        build(server, max_retries=0).complete(REQUEST)
    assert info.value.kind == "malformed"


@pytest.mark.parametrize("vendor", PROVIDERS)
def test_answer_without_code_block_is_returned_as_text(vendor):
    build, body = PROVIDERS[vendor]
    prose = "I would use a counter and a comparator, but I need more details first."
    with LoopbackServer([Reply(200, body(prose))]) as server:
        assert build(server).complete(REQUEST).texts == [prose]


def test_openai_n_samples_in_one_call_anthropic_in_n_calls():
    two = Request(REQUEST.messages, n=2)
    with LoopbackServer([Reply(200, openai_chat(["a", "b"]))]) as server:
        assert openai_provider(server).complete(two).texts == ["a", "b"]
        assert len(server.requests) == 1 and server.requests[0]["body"]["n"] == 2
    with LoopbackServer([Reply(200, anthropic_message("a"))]) as server:
        completion = anthropic_provider(server).complete(two)
    assert completion.texts == ["a", "a"] and len(server.requests) == 2
    assert completion.usage.prompt_tokens == 200


def test_base_url_environment_variables_are_honoured(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    with LoopbackServer([Reply(200, openai_chat(["via gateway"]))]) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        assert make_provider(parse_model("openai/gpt-4o")).complete(REQUEST).texts == ["via gateway"]
    with LoopbackServer([Reply(200, anthropic_message("via proxy"))]) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        assert make_provider(parse_model("anthropic/claude-haiku-4-5")).complete(REQUEST).texts == ["via proxy"]


def test_local_servers_and_named_openai_compatible_endpoints(monkeypatch):
    with LoopbackServer([Reply(200, openai_chat(["local"]))]) as server:
        monkeypatch.setenv("OLLAMA_BASE_URL", server.url + "/v1")
        completion = make_provider(parse_model("ollama/qwen2.5-coder:7b")).complete(Request(REQUEST.messages, n=2))
        assert completion.texts == ["local", "local"]  # ollama ignores n: asked twice
        assert [r["body"]["model"] for r in server.requests] == ["qwen2.5-coder:7b"] * 2
        monkeypatch.setenv("MY_GPU_BOX_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("MY_GPU_BOX_API_KEY", SECRET)
        make_provider(parse_model("openai-api/my-gpu-box/Qwen/Qwen2.5-Coder-32B")).complete(REQUEST)
        assert server.requests[-1]["body"]["model"] == "Qwen/Qwen2.5-Coder-32B"
        assert server.requests[-1]["headers"]["authorization"] == f"Bearer {SECRET}"


def test_missing_configuration_says_what_to_set(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMError, match="OPENAI_API_KEY is not set"):
        make_provider(parse_model("openai/gpt-4o"))
    monkeypatch.delenv("NOWHERE_BASE_URL", raising=False)
    with pytest.raises(LLMError, match="NOWHERE_BASE_URL is not set"):
        make_provider(parse_model("openai-api/nowhere/m"))
    with pytest.raises(LLMError, match="unknown provider"):
        parse_model("gemini/x")


def test_cost_cache_and_recording_then_replay(tmp_path):
    record = tmp_path / "transcript.jsonl"
    with LoopbackServer([Reply(200, openai_chat([ANSWER], 1000, 500))]) as server:
        client = LLMClient("openai/gpt-4o-mini", cache_dir=tmp_path / "cache", record_to=record,
                           provider=openai_provider(server))
        first = client.complete(REQUEST)
        second = client.complete(REQUEST)
        assert len(server.requests) == 1 and second.cached and second.texts == first.texts
        uncached = LLMClient("openai/gpt-4o-mini", cache_dir=None, provider=openai_provider(server))
        uncached.complete(REQUEST)
        assert len(server.requests) == 2
    assert first.usage.cost_usd == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)
    assert client.calls == 1
    text = record.read_text()
    assert SECRET not in text and "authorization" not in text.lower()
    assert all(SECRET not in p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    replay = LLMClient(f"replay/{record}")
    assert replay.complete(REQUEST).texts == [ANSWER]
    assert replay.complete(REQUEST).texts == [ANSWER]  # the cached exchange was recorded too
    with pytest.raises(LLMError, match="only 2"):
        replay.complete(REQUEST)


def test_replay_refuses_a_diverging_conversation(tmp_path):
    record = tmp_path / "t.jsonl"
    record.write_text(json.dumps({"transcript": "hwagent", "version": 1, "scripted": True}) + "\n"
                      + json.dumps({"request": REQUEST.to_dict(), "response": {"texts": ["x"]}}) + "\n"
                      + json.dumps({"expect": ["line 7"], "response": {"texts": ["y"]}}) + "\n")
    provider = Replay("replay/t", record)
    other = Request((REQUEST.messages[0], Message("user", "Something else")), n=1, temperature=0.0,
                    max_tokens=256, stop=("[DONE]",))
    with pytest.raises(LLMError) as info:
        provider.complete(other)
    assert info.value.kind == "divergence" and "+Something else" in str(info.value)
    assert "-Write a module." in str(info.value)
    with pytest.raises(LLMError, match="n: transcript 1, live 3"):
        provider.complete(Request(REQUEST.messages, n=3, temperature=0.0, max_tokens=256, stop=("[DONE]",)))
    provider.complete(REQUEST)
    with pytest.raises(LLMError, match="lacks"):
        provider.complete(Request((Message("user", "error at line 8"),)))


def test_per_provider_concurrency_limit(monkeypatch):
    monkeypatch.setenv("HWAGENT_SERIAL_BOX_CONCURRENCY", "1")
    with LoopbackServer([Reply(200, openai_chat(["ok"]), delay_s=0.2)]) as server:
        monkeypatch.setenv("SERIAL_BOX_BASE_URL", server.url + "/v1")
        client = LLMClient("openai-api/serial-box/m", cache_dir=None)
        threads = [threading.Thread(target=client.complete, args=(REQUEST,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(server.requests) == 3 and server.max_in_flight == 1


def test_price_table_override_and_unknown_models(tmp_path, monkeypatch):
    from agent.llm import pricing
    from agent.llm.base import Usage

    prices = tmp_path / "prices.yaml"
    prices.write_text("gpt-4o-mini: {input: 1.0, output: 2.0}\nmy-box/big: {input: 0.5, output: 0.5}\n")
    monkeypatch.setenv("HWAGENT_PRICES", str(prices))
    overrides = pricing.load_overrides()
    assert pricing.cost(Usage(1000, 1000), pricing.price("openai", "gpt-4o-mini", overrides)) == pytest.approx(0.003)
    assert pricing.price("my-box", "big", overrides) == (0.5, 0.5)
    assert pricing.price("openai", "gpt-4o-2024-08-06") == pricing.PRICES_PER_MTOK["gpt-4o"]
    assert pricing.price("ollama", "qwen2.5-coder:7b") == (0.0, 0.0)
    assert pricing.price("openai", "some-future-model") is None


@pytest.mark.parametrize(("provider", "command"), [("ollama", "ollama serve"), ("llamacpp", "llama_cpp.server"),
                                                   ("vllm", "vllm serve"), ("lmstudio", "lms server start")])
def test_a_local_server_that_is_down_is_one_line_naming_its_start_command(provider, command, monkeypatch):
    from agent.llm import require_credentials
    from agent.llm.llamacpp_server import free_port
    from agent.llm.providers import env_name

    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    monkeypatch.setenv(f"{env_name(provider)}_BASE_URL", url)
    with pytest.raises(LLMError) as info:
        require_credentials(f"{provider}/some-model")
    assert info.value.kind == "config" and "\n" not in str(info.value)
    assert url in info.value.message and command in info.value.message


def test_provider_table_and_packaged_prices(tmp_path, monkeypatch):
    from agent.llm import pricing
    from agent.llm.providers import PROVIDERS

    assert {"openai", "anthropic", "ollama", "vllm", "llamacpp", "lmstudio", "openai-api", "replay"} <= set(PROVIDERS)
    with pytest.raises(LLMError, match="known: openai, anthropic"):
        parse_model("gemini/x")
    assert pricing.PRICES_PER_MTOK["gpt-4o-mini"] == (0.15, 0.60)  # from agent/llm/prices.yaml
    assert all(pricing.price(name, "any") == (0.0, 0.0) for name, spec in PROVIDERS.items() if spec.free)
    bad = tmp_path / "prices.yaml"
    bad.write_text("gpt-4o: 3\n")
    monkeypatch.setenv("HWAGENT_PRICES", str(bad))
    with pytest.raises(LLMError, match="each entry needs"):
        pricing.load_overrides()
    monkeypatch.setenv("HWAGENT_PRICES", str(tmp_path / "missing.yaml"))
    with pytest.raises(LLMError, match="missing.yaml"):
        pricing.load_overrides()


def test_context_window_errors_of_each_server_are_context_length():
    """The 400 bodies llama_cpp.server / OpenAI / vLLM, llama-server and Anthropic send for an over-long prompt."""
    bodies = [{"error": {"message": "This model's maximum context length is 8192 tokens. However, you requested "
                                    "9000 tokens", "code": "context_length_exceeded"}},
              {"error": {"code": 400, "message": "the request exceeds the available context size, try increasing "
                                                 "it", "type": "exceed_context_size_error"}},
              {"type": "error", "error": {"type": "invalid_request_error",
                                          "message": "prompt is too long: 210000 tokens > 200000 maximum"}}]
    for body in bodies:
        with LoopbackServer([Reply(400, body)]) as server:
            provider = OpenAIChat("llamacpp/m", "m", "k", server.url + "/v1", max_retries=0)
            with pytest.raises(LLMError) as info:
                provider.complete(REQUEST)
        assert info.value.kind == "context_length", body
