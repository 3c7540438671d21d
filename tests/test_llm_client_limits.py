"""The client-side rate limiter: smooth pacing at the limit for requests and tokens."""

from __future__ import annotations

import base64
import random

import pytest
import quicktok

from src.providers.base_provider import Request
from src.providers.budget import count_tokens
from src.providers.llm_client import RateLimiter, request_key, request_tokens


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_are_spaced_evenly_at_the_limit():
    limiter = RateLimiter(600, 10**9, clock=Clock())
    delays = [limiter.reserve(10) for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_pacing_does_not_drift_when_time_passes():
    clock = Clock()
    limiter = RateLimiter(60, 10**9, clock=clock)
    assert limiter.reserve(1) == 0
    clock.now += 5  # idle: no credit is saved up for a burst
    assert limiter.reserve(1) == 0
    assert limiter.reserve(1) == pytest.approx(1.0)


def test_tokens_per_minute_allow_one_second_of_burst_then_pace():
    limiter = RateLimiter(10**6, 60_000, clock=Clock())  # 1,000 tokens a second
    delays = [limiter.reserve(500) for _ in range(6)]
    assert delays == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.5, 2.0], abs=1e-3)


def test_a_request_larger_than_the_burst_waits_for_the_previous_tokens():
    limiter = RateLimiter(10**6, 60_000, clock=Clock())
    assert limiter.reserve(3000) == 0
    assert limiter.reserve(3000) == pytest.approx(3.0, abs=1e-3)


def test_retry_after_pauses_new_requests():
    clock = Clock()
    limiter = RateLimiter(600, 10**9, clock=clock)
    limiter.reserve(1)
    limiter.pause(2.0)
    assert limiter.reserve(1) == pytest.approx(2.0)
    assert limiter.reserve(1) == pytest.approx(2.4)  # and the rate is cut by 4 after a 429


def test_a_burst_of_429s_slows_down_once_per_retry_after_window_and_at_most_to_it():
    clock = Clock()
    limiter = RateLimiter(6000, 10**9, clock=clock)  # one request every 0.01 s
    for _ in range(8):  # eight requests in flight all meet the same wall
        limiter.pause(1.0)
    assert limiter.request_interval == pytest.approx(0.04)
    clock.now += 1.5
    limiter.pause(1.0)  # a new window: the provider still refuses, slow down again
    assert limiter.request_interval == pytest.approx(0.16)
    clock.now += 1.5
    limiter.pause(0.5)  # never slower than one request per Retry-After
    assert limiter.request_interval == pytest.approx(0.5)


def test_successes_win_the_configured_rate_back_but_never_exceed_it():
    limiter = RateLimiter(600, 10**9, clock=Clock())
    limiter.pause(1.0)
    for _ in range(200):
        limiter.succeeded()
    assert limiter.request_interval == pytest.approx(0.1)


HARD_TEXTS = {  # text that real tokenizers split far finer than UTF-8 bytes / 3 (issue 21 #6)
    "hex": random.Random(1).randbytes(600).hex(),
    "base64": base64.b64encode(random.Random(2).randbytes(900)).decode(),
    "emoji": "😀🎉🚀👍🏽" * 60,
    "amharic": "ሰላም ለዓለም እንዴት ነህ " * 30,
    "english": "The office opens at nine in the morning. " * 30,
}


def _real(encoding: str, text: str) -> int:
    """A real tokenizer's count (quicktok's vocabularies equal tiktoken's and Meta's: see
    tests/test_token_counter.py, which proves it offline)."""
    return len(quicktok.get_encoding(encoding).encode(text))


@pytest.mark.parametrize("kind", sorted(HARD_TEXTS))
def test_budget_tokens_are_never_below_the_real_tokenizer(kind):
    text = HARD_TEXTS[kind]
    real = _real("o200k_base", text)  # gpt-4o-mini's own tokenizer, the reference
    assert count_tokens(text, "openai", "gpt-4o-mini") >= real
    assert count_tokens(text, "llama", "llama3") >= _real("llama3", text)
    assert count_tokens(text, "openai", "gpt-4o-mini") >= len(text.encode()) / 3  # the old floor


def test_request_tokens_count_system_user_and_schema_with_the_real_tokenizer():
    req = Request("gpt-4o-mini", "sys", HARD_TEXTS["hex"], {"type": "object"})
    real = _real("o200k_base", req.system + req.user + '{"type": "object"}')
    assert real <= request_tokens(req, "openai") <= real + 32


def test_request_key_changes_with_anything_that_shapes_the_reply():
    base = Request("m", "sys", "user", {"type": "object"}, "reply", 0.7, 100)
    key = request_key("openai", base)
    assert key == request_key("openai", Request("m", "sys", "user", {"type": "object"},
                                                "reply", 0.7, 100))
    variants = [request_key("mistral", base),
                request_key("openai", Request("m2", "sys", "user", {"type": "object"})),
                request_key("openai", Request("m", "sys", "user!", {"type": "object"})),
                request_key("openai", Request("m", "sys", "user", {"type": "array"})),
                request_key("openai", Request("m", "sys", "user", {"type": "object"},
                                              "reply", 0.2, 100))]
    assert key not in variants and len(set(variants)) == len(variants)
