"""The same job through each of the five providers' real SDKs, against the fake server."""

from __future__ import annotations

import asyncio

import pytest

from src.config import AGENT_PROVIDERS, Config
from src.errors import AuthError, ConfigError, ProviderUnavailable
from src.providers.llm_client import LLMClient
from tests.fake_llm_server import FakeLLMServer, fake_llm_fixture  # noqa: F401

PROVIDERS = AGENT_PROVIDERS
WIRE = {"openai": "openai", "llama": "openai", "mistral": "openai", "anthropic": "anthropic",
        "google": "gemini"}
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["question", "answer"],
          "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}


def make_client(server: FakeLLMServer, provider: str, monkeypatch: pytest.MonkeyPatch,
                **system: object) -> LLMClient:
    """An LLMClient for `provider` pointed at the fake server with a fake key."""
    monkeypatch.setenv(f"{provider.upper()}_API_KEY", "sk-test-123")
    monkeypatch.setenv(f"{provider.upper()}_BASE_URL", server.base_url(provider))
    config = Config()
    config.system.rate_limit.requests_per_minute = 60_000
    config.system.rate_limit.tokens_per_minute = 100_000_000
    for name, value in system.items():
        setattr(config.system, name, value)
    return LLMClient(config, None, provider=provider, model="test-model")


def ask(client: LLMClient, n: int = 1) -> list:
    """Run n different requests concurrently; returns replies or the exceptions raised."""
    async def job() -> list:
        try:
            return await asyncio.gather(
                *(client.complete_json("Write a Q&A pair.", f"Passage {i}.", SCHEMA)
                  for i in range(n)), return_exceptions=True)
        finally:
            await client.aclose()
    return asyncio.run(job())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_same_job_through_each_provider(provider, fake_llm, monkeypatch):
    client = make_client(fake_llm, provider, monkeypatch)
    replies = ask(client, 3)
    assert [r.data for r in replies] == [{"question": "text 0", "answer": "text 0"}] * 3
    assert fake_llm.stats.by_wire == {WIRE[provider]: 3}
    totals = client.totals
    assert totals["requests_sent"] == 3 and totals["failures"] == {}
    assert (totals["input_tokens"], totals["output_tokens"]) == \
        (fake_llm.stats.billed_input_tokens, fake_llm.stats.billed_output_tokens)
    assert sum(r.usage.input_tokens for r in replies) == totals["input_tokens"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_provider_is_asked_for_structured_output(provider, fake_llm, monkeypatch):
    ask(make_client(fake_llm, provider, monkeypatch))
    body = fake_llm.stats.received[0].body
    if provider in ("openai", "llama"):
        spec = body["response_format"]["json_schema"]
        assert body["response_format"]["type"] == "json_schema"
        assert spec["schema"] == SCHEMA and spec["strict"] is True
    elif provider == "anthropic":
        assert body["tools"][0]["input_schema"] == SCHEMA
        assert body["tool_choice"] == {"type": "tool", "name": "reply"}
    elif provider == "google":
        assert body["generationConfig"]["responseJsonSchema"] == SCHEMA
        assert body["generationConfig"]["responseMimeType"] == "application/json"
    else:  # mistral: JSON mode, the schema in the system prompt
        assert body["response_format"] == {"type": "json_object"}
        assert '"required": ["question", "answer"]' in body["messages"][0]["content"]
    assert fake_llm.stats.received[0].model == "test-model"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_transient_faults_are_retried_until_done(provider, monkeypatch):
    with FakeLLMServer(retry_after=0.01, error_retry_after=0.01, hang_seconds=5) as server:
        server.script("hang", "429", "500", "529")  # a timeout first: 0.5 s backoff
        client = make_client(server, provider, monkeypatch, timeout=1.0, max_retries=4)
        [reply] = ask(client)
    assert reply.data == {"question": "text 0", "answer": "text 0"}
    assert server.stats.requests == 5 and client.totals["requests_sent"] == 5
    assert server.stats.statuses == {429: 1, 500: 1, 529: 1, 200: 1}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_refused_key_is_an_auth_error_naming_the_variable(provider, fake_llm, monkeypatch):
    fake_llm.script("401")
    [error] = ask(make_client(fake_llm, provider, monkeypatch))
    assert isinstance(error, AuthError)
    assert f"check {provider.upper()}_API_KEY in .env" in str(error)
    assert fake_llm.stats.requests == 1  # not retried
    assert error.__cause__ is not None  # raised from the SDK's exception


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unavailable_after_the_last_retry(provider, monkeypatch):
    with FakeLLMServer(error_retry_after=0.01) as server:
        server.script("503", "503", "503")
        client = make_client(server, provider, monkeypatch, max_retries=2)
        [error] = ask(client)
    assert isinstance(error, ProviderUnavailable) and "HTTP 503" in str(error)
    assert server.stats.requests == 3
    assert client.totals["failures"] == {"unavailable": 1}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unknown_model_points_at_the_setting(provider, fake_llm, monkeypatch):
    fake_llm.script("404")
    [error] = ask(make_client(fake_llm, provider, monkeypatch))
    assert isinstance(error, ConfigError) and "system.agentic_model" in str(error)
