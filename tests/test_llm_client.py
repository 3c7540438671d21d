"""LLMClient: resume cache, budget cap, malformed replies, fault mixes, concurrency, keys."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from src.config import Config
from src.errors import AuthError, BadReply, BudgetExhausted, ConfigError, ProviderUnavailable
from src.persistence.sqlite_client import Database
from src.providers.llm_client import LLMClient, estimate, failure_category
from src.providers.prices import agent_price
from tests.fake_llm_server import FakeLLMServer, fake_llm_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["question", "answer"],
          "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}
SYSTEM = "Write one question and its answer about the passage, as JSON."


def make_config(**system: object) -> Config:
    config = Config()
    config.system.agentic_llm, config.system.agentic_model = "openai", "gpt-4o-mini"
    config.system.rate_limit.requests_per_minute = 60_000
    config.system.rate_limit.tokens_per_minute = 100_000_000
    for name, value in system.items():
        setattr(config.system, name, value)
    return config


def point_at(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url("openai"))


def run_job(client: LLMClient, n: int, **kwargs: object) -> list:
    """n different requests at once; each item is a Reply or the exception it raised."""
    async def job() -> list:
        try:
            return await asyncio.gather(
                *(client.complete_json(SYSTEM, f"Passage {i}: the office opens at {i} am.",
                                       SCHEMA, **kwargs) for i in range(n)),
                return_exceptions=True)
        finally:
            await client.aclose()
    return asyncio.run(job())


def cache_rows(db: Database) -> int:
    return db.conn.execute("SELECT COUNT(*) AS n FROM response_cache").fetchone()["n"]


# ------------------------------------------------------------------ resume cache

def test_rerun_is_answered_from_the_cache(fake_llm, monkeypatch, tmp_path):
    point_at(fake_llm, monkeypatch)
    with Database(tmp_path / "cache.db") as db:
        first = run_job(LLMClient(make_config(), db), 6)
        again = LLMClient(make_config(), db)
        second = run_job(again, 6)
    assert fake_llm.stats.requests == 6
    assert [r.data for r in second] == [r.data for r in first]
    assert all(r.cached and r.usage.cost_usd == 0 for r in second)
    assert again.totals["cache_hits"] == 6 and again.totals["requests_sent"] == 0


CHILD = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {root!r})
    from src.persistence.sqlite_client import Database
    from tests.test_llm_client import make_config, run_job
    from src.providers.llm_client import LLMClient
    with Database({db!r}) as db:
        run_job(LLMClient(make_config(concurrency=2), db), {n})
""")


def settled_request_count(server: FakeLLMServer) -> int:
    """The server's request count once requests still on the wire have arrived."""
    count = -1
    while count != server.stats.requests or server.stats.in_flight:
        count = server.stats.requests
        time.sleep(0.3)
    return count


def stored_rows(path) -> int:
    """Cache rows committed so far by another process (0 before the table exists)."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_killed_run_resumes_without_resending(monkeypatch, tmp_path):
    n, db_path = 30, tmp_path / "cache.db"
    with FakeLLMServer(latency=0.05) as server:
        point_at(server, monkeypatch)
        child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT),
                                  db=str(db_path), n=n)], env=os.environ.copy())
        deadline = time.monotonic() + 30
        while stored_rows(db_path) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)  # kill once ten answers are durable (not just sent by the server)
        child.send_signal(signal.SIGKILL)
        child.wait()
        sent_before = settled_request_count(server)
        with Database(db_path) as db:
            stored = cache_rows(db)
            client = LLMClient(make_config(), db)
            replies = run_job(client, n)
    assert 10 <= stored < n  # killed part-way, every finished answer already durable
    assert all(not isinstance(r, Exception) for r in replies)
    assert client.totals["cache_hits"] == stored
    assert server.stats.requests - sent_before == n - stored  # only the missing ones resent


# ------------------------------------------------------------------ budget

def test_budget_cap_is_never_crossed(monkeypatch, tmp_path):
    price_in, price_out = agent_price("openai", "gpt-4o-mini")
    worst = (300 * price_in + 500 * price_out) / 1e6  # a generous bound for one request
    config = make_config(concurrency=4)
    config.budget_usd = 5.5 * worst

    def long_answer(request):  # ~405 output tokens: real spend close to the worst case
        return {"question": "Why?", "answer": "because " * 200}
    with FakeLLMServer(latency=0.02, responder=long_answer) as server:
        point_at(server, monkeypatch)
        client = LLMClient(config, None)
        results = run_job(client, 40, max_tokens=500)
    done = [r for r in results if not isinstance(r, Exception)]
    stopped = [r for r in results if isinstance(r, BudgetExhausted)]
    assert len(done) + len(stopped) == 40 and 5 <= len(done) < 40
    billed = (server.stats.billed_input_tokens * price_in
              + server.stats.billed_output_tokens * price_out) / 1e6
    assert billed <= config.budget_usd
    assert client.totals["cost_usd"] == pytest.approx(billed)
    assert server.stats.requests == len(done)  # nothing sent once the cap was near
    assert "raise budget_usd in config.yaml" in str(stopped[0])
    assert client.totals["failures"] == {"budget": len(stopped)}


# ------------------------------------------------------------------ structured output

def test_malformed_reply_is_retried_once_with_the_error(fake_llm, monkeypatch):
    point_at(fake_llm, monkeypatch)
    fake_llm.script("malformed")
    client = LLMClient(make_config(), None)
    [reply] = run_job(client, 1)
    assert reply.data == {"question": "text 0", "answer": "text 0"}
    first, second = fake_llm.stats.received
    assert "previous reply could not be used: the reply is not valid JSON" in second.user
    assert first.user in second.user
    assert reply.usage.input_tokens == fake_llm.stats.billed_input_tokens  # both paid attempts
    assert client.totals["malformed_retries"] == 1


def test_off_schema_twice_fails_as_malformed_output(fake_llm, monkeypatch):
    point_at(fake_llm, monkeypatch)
    fake_llm.script("offschema", "offschema")
    client = LLMClient(make_config(), None)
    [error] = run_job(client, 1)
    assert isinstance(error, BadReply) and failure_category(error) == "malformed_output"
    assert "does not match the schema at the top level" in str(error)
    assert fake_llm.stats.requests == 2
    assert client.totals["failures"] == {"malformed_output": 1}


def test_fenced_json_from_a_chatty_model_is_accepted(monkeypatch):
    def fenced(request):
        return '```json\n{"question": "Q?", "answer": "A."}\n```'
    with FakeLLMServer(responder=fenced) as server:
        point_at(server, monkeypatch)
        [reply] = run_job(LLMClient(make_config(), None), 1)
    assert reply.data == {"question": "Q?", "answer": "A."}


# ------------------------------------------------------------------ faults, limits

def test_fault_mix_leaves_every_item_done_or_failed_with_a_reason(monkeypatch, tmp_path):
    faults = {"429": 0.1, "500": 0.1, "503": 0.05, "529": 0.05, "hang": 0.03,
              "malformed": 0.1, "offschema": 0.05}
    with FakeLLMServer(fault_rates=faults, seed=3, retry_after=0.01, error_retry_after=0.01,
                       hang_seconds=5) as server, Database(tmp_path / "c.db") as db:
        point_at(server, monkeypatch)
        client = LLMClient(make_config(timeout=1.0, max_retries=2, concurrency=8), db)
        results = run_job(client, 60)
        stored = cache_rows(db)
    done = [r for r in results if not isinstance(r, Exception)]
    failed = [failure_category(r) for r in results if isinstance(r, Exception)]
    assert len(done) + len(failed) == 60 and len(done) >= 40
    assert set(failed) <= {"rate_limited", "unavailable", "malformed_output"}
    assert sum(client.totals["failures"].values()) == len(failed)
    assert stored == len(done)
    assert (client.totals["input_tokens"], client.totals["output_tokens"]) == \
        (server.stats.billed_input_tokens, server.stats.billed_output_tokens)


def test_no_more_than_concurrency_requests_in_flight(monkeypatch):
    with FakeLLMServer(latency=0.2) as server:
        point_at(server, monkeypatch)
        run_job(LLMClient(make_config(concurrency=3), None), 9)
    assert server.stats.max_in_flight == 3


def test_rate_limit_paces_requests_without_429s(monkeypatch):
    with FakeLLMServer(requests_per_minute=1200) as server:  # 20/s, one second of burst
        point_at(server, monkeypatch)
        config = make_config()
        config.system.rate_limit.requests_per_minute = 1200
        client = LLMClient(config, None)
        start = time.monotonic()
        run_job(client, 30)
        elapsed = time.monotonic() - start
    assert server.stats.statuses[429] == 0
    assert 29 / 20 * 0.95 <= elapsed < 29 / 20 + 1.5


def test_a_configured_rate_far_above_the_providers_still_completes_every_item(monkeypatch):
    with FakeLLMServer(requests_per_minute=300) as server:  # the real limit: 5 a second
        point_at(server, monkeypatch)
        client = LLMClient(make_config(concurrency=8, max_retries=4), None)  # we say 60,000/min
        start = time.monotonic()
        replies = run_job(client, 40)
        elapsed = time.monotonic() - start
    assert all(not isinstance(r, Exception) for r in replies), replies
    assert elapsed < 2 * 40 / 5  # close to the provider's real pace: slowed down, not stalled


def test_retry_after_is_honoured(monkeypatch):
    with FakeLLMServer(retry_after=0.6) as server:
        point_at(server, monkeypatch)
        server.script("429")
        start = time.monotonic()
        [reply] = run_job(LLMClient(make_config(), None), 1)
        assert time.monotonic() - start >= 0.6
    assert not isinstance(reply, Exception) and server.stats.requests == 2


def test_a_hang_costs_the_configured_timeout_not_ten_minutes(monkeypatch):
    with FakeLLMServer(hang_seconds=30) as server:
        point_at(server, monkeypatch)
        server.script("hang")
        start = time.monotonic()
        [error] = run_job(LLMClient(make_config(timeout=1.0, max_retries=0), None), 1)
        elapsed = time.monotonic() - start
    assert isinstance(error, ProviderUnavailable)
    assert "did not answer within 1 s (system.timeout" in str(error)
    assert elapsed < 3


def test_unreachable_server_is_unavailable(monkeypatch):
    server = FakeLLMServer()
    point_at(server, monkeypatch)
    server.stop()  # never started, now closed: nothing listens on its port
    [error] = run_job(LLMClient(make_config(max_retries=0), None), 1)
    assert isinstance(error, ProviderUnavailable) and "Cannot reach openai" in str(error)


# ------------------------------------------------------------------ keys, prices, estimate

def test_missing_key_says_which_variable_to_set():
    config = make_config()
    with pytest.raises(AuthError, match="No API key for mistral: set MISTRAL_API_KEY in .env"):
        LLMClient(config, None, provider="mistral", model="mistral-small-latest")


def test_local_openai_compatible_server_needs_no_key(fake_llm, monkeypatch):
    monkeypatch.setenv("LLAMA_BASE_URL", fake_llm.base_url("llama"))
    [reply] = run_job(LLMClient(make_config(), None, provider="llama", model="llama3"), 1)
    assert reply.data["answer"] == "text 0"
    assert fake_llm.stats.received[0].headers["authorization"] == "Bearer not-needed"
    monkeypatch.setenv("LLAMA_BASE_URL", "https://api.together.xyz/v1")
    with pytest.raises(AuthError, match="LLAMA_API_KEY"):
        LLMClient(make_config(), None, provider="llama", model="llama3")


def test_an_agent_model_without_a_price_refuses_and_says_how_to_set_one(fake_llm, monkeypatch):
    point_at(fake_llm, monkeypatch)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://openrouter.example/api/v1")  # hosted, no price
    with pytest.raises(ConfigError) as refused:
        LLMClient(make_config(), None, model="no-such-model-for-price")
    message = str(refused.value)
    assert "No price is known for the agent model openai/no-such-model-for-price" in message
    assert "budget_usd ($5.00) could not stop the run" in message
    assert "agent_price: {input_per_million:" in message
    assert fake_llm.stats.requests == 0


def test_an_explicit_price_applies_to_any_model_and_to_local_servers(fake_llm, monkeypatch):
    point_at(fake_llm, monkeypatch)  # a server on 127.0.0.1: free unless a price is set
    config = make_config()
    config.system.agent_price = {"input_per_million": 2.0, "output_per_million": 8.0}
    client = LLMClient(config, None, model="no-such-model-for-price")
    run_job(client, 2)
    billed = (fake_llm.stats.billed_input_tokens * 2.0
              + fake_llm.stats.billed_output_tokens * 8.0) / 1e6
    assert client.totals["cost_usd"] == pytest.approx(billed) and billed > 0
    assert "system.agent_price in config.yaml" in client.totals["price"]
    local = LLMClient(make_config(), None, model="no-such-model-for-price")
    assert local.price.cost(10**6, 10**6) == 0 and "free: a server on this machine" in \
        local.price.describe()


def test_estimate_at_the_configured_rate_limit(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    config = make_config(concurrency=64)  # enough in flight for 6 s replies at 500/min
    config.system.rate_limit.requests_per_minute = 500
    config.system.rate_limit.tokens_per_minute = 2_000_000
    client = LLMClient(config, None)
    est = client.estimate(6000, 6_000_000, 1_800_000)
    price_in, price_out = agent_price("openai", "gpt-4o-mini")
    assert est.cost_usd == pytest.approx(6 * price_in + 1.8 * price_out)
    # 500/min binds, not tokens; the first request goes alone and the last answer comes one
    # request's time (1 s + 300 tokens at 60/s, the pace assumed for a server not yet measured)
    # after the last request leaves
    assert est.seconds == pytest.approx(5999 * 60 / 500 + 2 * 6)
    text = est.describe()
    assert "6,000 requests" in text and "12 min" in text and "500 requests/min" in text
    assert "at $0.15 in / $0.6 out per 1M tokens (catalog price of openai/gpt-4o-mini" in text
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example/v1")
    unknown = estimate(config, 10, 100, 100, provider="openai", model="unknown-model")
    assert "cost unknown" in unknown.describe() and not unknown.price_known


def test_estimate_before_any_key_is_set():
    config = make_config()  # openai/gpt-4o-mini, no OPENAI_API_KEY in the environment
    est = estimate(config, 100, 50_000, 20_000)
    assert est.requests == 100 and est.price_known and est.cost_usd > 0
