"""What real servers do to the LLM client (issue 21 #2, #3, #6, #7): malformed 200 replies, lone
surrogates, missing or hostile usage, billing refusals and refused keys, against the controllable
fake server (`Canned` replies) and the real SDKs."""

from __future__ import annotations

import asyncio

import pytest
import quicktok

from src.errors import AuthError, BadReply, BillingError, BudgetExhausted
from src.persistence.sqlite_client import Database
from src.providers.budget import count_tokens
from src.providers.llm_client import LLMClient, failure_category
from src.providers.prices import agent_price
from tests.fake_llm_server import Canned, FakeLLMServer, fake_llm_fixture  # noqa: F401
from tests.test_llm_client import SCHEMA, SYSTEM, make_config, point_at, run_job
from tests.test_llm_client_limits import HARD_TEXTS
from tests.test_providers_wire import make_client

GOOD = '{"question": "When?", "answer": "At nine."}'
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"
# Replies a real OpenAI-compatible server or proxy has sent with HTTP 200 (issue 21 #3).
MALFORMED_OPENAI = {
    "no choices": Canned(body={"choices": [], "usage": {"prompt_tokens": 9,
                                                        "completion_tokens": 0}}),
    "null message": Canned(body={"choices": [{"index": 0, "message": None}], "usage": None}),
    "null content": Canned(body={"choices": [{"index": 0, "message": {"content": None}}]}),
    "html page": Canned(body=HTML, content_type="text/html"),
    "empty body": Canned(body=""),
    "not json": Canned(body="upstream connect error"),
    "a list": Canned(body=[1, 2, 3]),
    "content a number": Canned(body={"choices": [{"message": {"content": 42}}]}),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED_OPENAI))
def test_a_malformed_200_fails_one_item_and_the_rest_go_on(kind, fake_llm, monkeypatch):
    point_at(fake_llm, monkeypatch)
    bad = MALFORMED_OPENAI[kind]
    fake_llm.script(Canned(text=GOOD), bad, bad)  # item 0 goes alone, then item 1 (and its retry)
    client = LLMClient(make_config(), None)
    good, failed = run_job(client, 2)
    assert good.data == {"question": "When?", "answer": "At nine."}
    assert isinstance(failed, BadReply) and failure_category(failed) == "malformed_output"
    assert "twice replied with unusable JSON" in str(failed)
    assert fake_llm.stats.requests == 3  # the bad one was asked once more, no more
    assert client.totals["failures"] == {"malformed_output": 1}
    assert all(not isinstance(r, Exception) for r in run_job(client, 3))  # and the run goes on


def test_content_as_a_list_of_parts_is_read(fake_llm, monkeypatch):
    point_at(fake_llm, monkeypatch)
    parts = {"choices": [{"index": 0, "message": {"role": "assistant", "content": [
        {"type": "text", "text": '{"question": "Q?", '}, {"type": "text", "text": '"answer": "A."}'}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5}}
    fake_llm.script(Canned(body=parts))
    [reply] = run_job(LLMClient(make_config(), None), 1)
    assert reply.data == {"question": "Q?", "answer": "A."}


@pytest.mark.parametrize("usage", [None, {"prompt_tokens": None, "completion_tokens": None},
                                   {"prompt_tokens": -5000, "completion_tokens": -9000},
                                   {"prompt_tokens": "12", "completion_tokens": True}])
def test_a_paid_reply_without_usable_usage_is_counted_by_us_and_cached(usage, fake_llm,
                                                                       monkeypatch, tmp_path):
    point_at(fake_llm, monkeypatch)
    fake_llm.script(Canned(text=GOOD, usage=usage))
    with Database(tmp_path / "c.db") as db:
        client = LLMClient(make_config(), db)
        [reply] = run_job(client, 1)
        again = LLMClient(make_config(), db)
        [cached] = run_job(again, 1)
    sent = fake_llm.stats.received[0]
    assert reply.usage.input_tokens >= count_tokens(sent.system + sent.user, "openai", "gpt-4o-mini")
    assert reply.usage.output_tokens == count_tokens(GOOD, "openai", "gpt-4o-mini")
    assert reply.usage.cost_usd > 0 and client.totals["cost_usd"] == pytest.approx(
        reply.usage.cost_usd)  # never widened by a negative count
    assert client.totals["usage_counted_by_us"] == 1
    assert cached.cached and fake_llm.stats.requests == 1  # not paid again


def test_a_lone_surrogate_in_a_reply_is_stored_and_resumes_without_paying(fake_llm, monkeypatch,
                                                                          tmp_path):
    point_at(fake_llm, monkeypatch)
    split_emoji = '{"question": "Why \\ud83d?", "answer": "Because \\ud83d\\ude00 \\udc00"}'
    fake_llm.script(Canned(text=split_emoji))
    with Database(tmp_path / "c.db") as db:
        [reply] = run_job(LLMClient(make_config(), db), 1)
        [again] = run_job(LLMClient(make_config(), db), 1)
        stored = db.conn.execute("SELECT response FROM response_cache").fetchone()["response"]
    valid = {"question": "Why \ufffd?", "answer": "Because 😀 \ufffd"}  # a split pair rejoined
    assert reply.data == valid and again.cached and again.data == valid
    assert "\ufffd" in stored and fake_llm.stats.requests == 1


@pytest.mark.parametrize("provider", ["anthropic", "google", "mistral", "llama"])
@pytest.mark.parametrize("kind", ["html", "empty", "no content"])
def test_every_wire_turns_a_malformed_200_into_one_failed_item(provider, kind, fake_llm,
                                                               monkeypatch):
    bodies = {"html": Canned(body=HTML, content_type="text/html"), "empty": Canned(body=""),
              "no content": Canned(body={"candidates": [], "content": [], "choices": []})}
    fake_llm.script(Canned(text=GOOD), bodies[kind], bodies[kind])
    client = make_client(fake_llm, provider, monkeypatch)
    good, failed = asyncio.run(_ask(client, 2))
    assert good.data == {"question": "When?", "answer": "At nine."}
    assert isinstance(failed, BadReply), failed
    assert fake_llm.stats.requests == 3


async def _ask(client: LLMClient, n: int) -> list:
    try:
        return await asyncio.gather(*(client.complete_json(SYSTEM, f"Passage {i}.", SCHEMA)
                                      for i in range(n)), return_exceptions=True)
    finally:
        await client.aclose()


# ------------------------------------------------------------------ budget (issue 21 #6)

def real_o200k(text: str) -> int:
    return len(quicktok.get_encoding("o200k_base").encode(text))  # = tiktoken (test_token_counter)


@pytest.mark.parametrize("kind", ["hex", "base64", "emoji"])
def test_hard_text_billed_with_a_real_tokenizer_stays_within_the_cap(kind, monkeypatch):
    price_in, price_out = agent_price("openai", "gpt-4o-mini")
    config = make_config(concurrency=4)
    config.budget_usd = 0.0015
    long_answer = {"question": "What?", "answer": HARD_TEXTS[kind][:600]}
    with FakeLLMServer(responder=lambda r: long_answer, token_counter=real_o200k) as server:
        point_at(server, monkeypatch)
        client = LLMClient(config, None)

        async def job() -> list:
            try:
                return await asyncio.gather(*(client.complete_json(
                    SYSTEM, f"{i}: {HARD_TEXTS[kind]}", SCHEMA, max_tokens=700)
                    for i in range(30)), return_exceptions=True)
            finally:
                await client.aclose()
        results = asyncio.run(job())
    billed = (server.stats.billed_input_tokens * price_in
              + server.stats.billed_output_tokens * price_out) / 1e6
    stopped = [r for r in results if isinstance(r, BudgetExhausted)]
    assert stopped and len(stopped) < 30  # some went through, the cap stopped the rest
    assert billed <= config.budget_usd
    assert client.totals["cost_usd"] == pytest.approx(billed)


def test_huge_reported_usage_stops_the_run_and_the_message_tells_the_truth(fake_llm, monkeypatch):
    point_at(fake_llm, monkeypatch)
    config = make_config(concurrency=1)
    config.budget_usd = 0.05
    fake_llm.script(Canned(text=GOOD, usage={"prompt_tokens": 60_000_000,
                                             "completion_tokens": 46_250_000}))
    client = LLMClient(config, None)
    results = run_job(client, 5)
    assert not isinstance(results[0], Exception)  # paid: kept
    assert all(isinstance(r, BudgetExhausted) for r in results[1:])
    assert fake_llm.stats.requests == 1
    assert client.totals["cost_usd"] == pytest.approx(36.75)
    message = str(results[1])
    assert "Budget exceeded: $36.7500 spent of budget_usd $0.05" in message
    assert "60,000,000 input + 46,250,000 output tokens" in message
    assert "$0.0000" not in message and client.totals["budget_note"].startswith("Budget exceeded")


# ------------------------------------------------------------------ refusals (issue 21 #7)

QUOTA = {"error": {"message": "You exceeded your current quota, please check your plan and "
                   "billing details.", "type": "insufficient_quota", "code": "insufficient_quota"}}


@pytest.mark.parametrize("refusal", [
    Canned(status=429, body=QUOTA, headers={"Retry-After": "1"}),
    Canned(status=402, body={"error": {"message": "Insufficient credits", "code": 402}})])
def test_an_account_without_credit_stops_everything_after_one_request(refusal, fake_llm,
                                                                      monkeypatch):
    point_at(fake_llm, monkeypatch)
    fake_llm.script(*[refusal] * 20)
    client = LLMClient(make_config(concurrency=16), None)
    results = run_job(client, 16)
    assert all(isinstance(r, BillingError) for r in results), results
    assert fake_llm.stats.requests == 1  # not 768 retries, not 16 requests
    assert client.totals["failures"] == {"billing": 16}
    assert "refused the request for billing" in str(results[0])


def test_a_refused_key_costs_one_request_not_one_per_slot(monkeypatch):
    with FakeLLMServer(valid_keys={"another-key"}) as server:
        point_at(server, monkeypatch)
        results = run_job(LLMClient(make_config(concurrency=16), None), 16)
    assert all(isinstance(r, AuthError) for r in results)
    assert server.stats.requests == 1
    assert "not sent: the provider refused an earlier request" in str(results[-1])


def test_after_a_refusal_requests_waiting_for_a_retry_are_not_sent(monkeypatch):
    with FakeLLMServer(error_retry_after=0.5) as server:
        point_at(server, monkeypatch)
        server.script("ok", "500", "500", "500", "401")  # the 401 comes while three wait 0.5 s
        results = run_job(LLMClient(make_config(concurrency=4), None), 5)
    assert not isinstance(results[0], Exception)
    assert all(isinstance(r, AuthError) for r in results[1:]), results
    assert server.stats.requests == 5  # the three waiting retries never left
