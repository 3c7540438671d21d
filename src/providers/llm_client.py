"""The agent LLM client: structured output at the rate limit, within budget, resumable.

Agents call `LLMClient.complete_json` from many coroutines at once. Each call looks in the resume
cache first; a miss waits for one of `system.concurrency` slots, reserves its worst-case cost
against `budget_usd`, waits for its turn at the rate limiter (every attempt, retries included)
and is stored in SQLite as soon as it parses. A reply that does not match the schema is asked for
once more with the error appended, then fails as `malformed_output`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlparse

from src.config import KEY_ENV, Config, agent_choice, api_key, base_url
from src.errors import (
    AuthError,
    BadReply,
    BudgetExhausted,
    BuilderError,
    ConfigError,
    ProviderUnavailable,
    RateLimited,
)
from src.providers.base_provider import RawReply, Request, parse_json_reply
from src.providers.prices import agent_price
from src.providers.registry import adapter_class

log = logging.getLogger(__name__)
_unpriced_warned: set[tuple[str, str]] = set()

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
PLACEHOLDER_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key
BYTES_PER_TOKEN = 3  # conservative: real tokenizers average ~4 bytes per token in English
MESSAGE_OVERHEAD_TOKENS = 16
TOKEN_BURST_SECONDS = 1.0  # the token limiter lets one second's worth of tokens through at once
# After a 429 the provider's real limit is below the configured one: cut our request rate by 4 (at most
# once per Retry-After window), then win it back slowly as requests succeed.
RATE_BACKOFF_FACTOR = 4.0
RATE_RECOVERY_FACTOR = 0.97  # request interval × this after each success, down to the configured
BASE_LATENCY_S = 1.0  # for the pre-run estimate: time to first token ...
OUTPUT_TOKENS_PER_S = 60.0  # ... plus generation speed
RETRY_NOTE = ("\n\nYour previous reply could not be used: {error}. Reply again with one JSON "
              "object that matches the schema exactly.")
CATEGORIES = ((BudgetExhausted, "budget"), (AuthError, "auth"), (RateLimited, "rate_limited"),
              (ProviderUnavailable, "unavailable"), (BadReply, "malformed_output"),
              (ConfigError, "config"))


class ResponseCache(Protocol):
    """Where paid replies are kept for resume (the caller hands in the SQLite store)."""

    def cache_get(self, key: str) -> dict | None: ...

    def cache_put(self, key: str, provider: str, model: str, response: Any, input_tokens: int,
                  output_tokens: int, cost_usd: float) -> None: ...


@dataclass
class Usage:
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass
class Reply:
    data: dict
    text: str
    usage: Usage
    cached: bool
    key: str


@dataclass
class Estimate:
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    seconds: float
    price_known: bool = True
    rate_note: str = ""

    def describe(self) -> str:
        """One line for the confirmation prompt and `generate` output."""
        cost = f"about ${self.cost_usd:,.2f}" if self.price_known else \
            "cost unknown (no catalog price for this agent model)"
        return (f"{self.requests:,} requests, ~{self.input_tokens:,} input + "
                f"{self.output_tokens:,} output tokens, {cost}, about "
                f"{_duration(self.seconds)}{self.rate_note}")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def estimate_tokens(text: str) -> int:
    """A deliberately high token count for text (UTF-8 bytes / 3), used for budget and limits."""
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def request_key(provider: str, req: Request) -> str:
    """The resume-cache key: sha256 of everything that shapes the reply."""
    parts = [provider, req.model, req.system, req.user, req.schema, req.schema_name,
             req.temperature, req.max_tokens]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def failure_category(exc: BaseException) -> str:
    """The failure category to record for an error raised by complete_json."""
    for cls, category in CATEGORIES:
        if isinstance(exc, cls):
            return category
    return "rejected"


class RateLimiter:
    """Smooth pacing of requests and tokens per minute (GCRA): runs at the limit, never bursts."""

    def __init__(self, requests_per_minute: float, tokens_per_minute: float,
                 clock: Callable[[], float] = time.monotonic):
        self.request_interval = 60.0 / requests_per_minute
        self.seconds_per_token = 60.0 / tokens_per_minute
        self.clock = clock
        self.base_interval = self.request_interval
        self._next_request = 0.0
        self._token_tat = 0.0  # when the tokens granted so far are "paid off"
        self._backed_off_until = 0.0

    def reserve(self, tokens: int) -> float:
        """Book the next slot for a request of `tokens`; returns seconds to wait for it."""
        now = self.clock()
        cost = tokens * self.seconds_per_token
        burst = max(TOKEN_BURST_SECONDS, cost)
        start = max(now, self._next_request, self._token_tat + cost - burst)
        self._next_request = start + self.request_interval
        self._token_tat = max(self._token_tat, start) + cost
        return start - now

    async def wait(self, tokens: int) -> None:
        """Sleep until this request's slot."""
        delay = self.reserve(tokens)
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        """The server said 429 + Retry-After: no new request starts before then, and we slow down.

        Requests that were waiting are then spaced at the lower rate instead of all retrying at
        once (which would meet another wall of 429s when the configured limit is too high).
        """
        now = self.clock()
        self._next_request = max(self._next_request, now + seconds)
        if now >= self._backed_off_until:
            # never slower than one request per Retry-After: that is when the server frees a slot
            self.request_interval = max(self.base_interval, min(
                self.request_interval * RATE_BACKOFF_FACTOR, seconds))
            self._backed_off_until = now + seconds

    def succeeded(self) -> None:
        """A request went through: move the rate back toward the configured limit."""
        self.request_interval = max(self.base_interval,
                                    self.request_interval * RATE_RECOVERY_FACTOR)


class Budget:
    """Spent and reserved USD against budget_usd: a request is reserved at its worst case before
    it is sent (or refused), released when it returns, then charged what it cost. An engine may
    put one shared by many clients in its place (src/engine/limits.py)."""

    def __init__(self, cap_usd: float):
        self.cap = cap_usd
        self.spent = 0.0
        self.reserved = 0.0

    def reserve(self, worst: float) -> None:
        """Book `worst` USD for a request about to be sent, or refuse it (BudgetExhausted)."""
        if self.spent + self.reserved + worst > self.cap:
            raise BudgetExhausted(
                f"Budget reached: ${self.spent:.4f} spent of budget_usd ${self.cap:.2f}, and the "
                f"next request could cost up to ${worst:.4f}, so it was not sent. The run keeps "
                "what it has; raise budget_usd in config.yaml and run again (answers already "
                "paid for are cached).")
        self.reserved += worst

    def release(self, worst: float) -> None:
        self.reserved = max(0.0, self.reserved - worst)

    def charge(self, usage: Usage, worst: float) -> None:
        """Add what a reply cost (`worst` was its reservation)."""
        self.spent += usage.cost_usd


def estimate(config: Config, requests: int, input_tokens: int, output_tokens: int, *,
             provider: str | None = None, model: str | None = None) -> Estimate:
    """The pre-run estimate for the configured agent (totals for the job); needs no API key."""
    if provider is None or model is None:
        provider, model = agent_choice(config)
    price = agent_price(provider, model)
    cost = (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000 if price else 0.0
    limits, system = config.system.rate_limit, config.system
    rate_s = max(requests * 60 / limits.requests_per_minute,
                 (input_tokens + output_tokens) * 60 / limits.tokens_per_minute)
    per_request = BASE_LATENCY_S + output_tokens / max(requests, 1) / OUTPUT_TOKENS_PER_S
    seconds = max(rate_s, requests * per_request / system.concurrency)
    note = (f" at {limits.requests_per_minute:,} requests/min, "
            f"{limits.tokens_per_minute:,} tokens/min, {system.concurrency} in flight")
    return Estimate(requests, input_tokens, output_tokens, cost, seconds, price is not None, note)


def require_key(config: Config) -> None:
    """Raise AuthError now (before any work) when the agent LLM has no usable key."""
    provider, _ = agent_choice(config)
    _resolve_key(provider, base_url(provider, config))


def key_problem(provider: str, config: Config) -> str | None:
    """Why `provider` cannot be used as the agent (no usable key), or None when it can."""
    try:
        _resolve_key(provider, base_url(provider, config))
    except AuthError as exc:
        return str(exc)
    return None


def _resolve_key(provider: str, url: str | None) -> str:
    key = api_key(provider)
    if key:
        return key
    if provider in ("openai", "llama") and url and urlparse(url).hostname in LOCAL_HOSTS:
        return PLACEHOLDER_KEY
    raise AuthError(f"No API key for {provider}: set {KEY_ENV[provider]} in .env (see "
                    ".env.example), or choose another agent with --agent-provider or "
                    "system.agentic_llm in config.yaml. To work offline: identify mode "
                    "(--mode identify) needs no key, or point OPENAI_BASE_URL or LLAMA_BASE_URL "
                    "at a local OpenAI-compatible server (Ollama, vLLM, llama.cpp).")


class LLMClient:
    """Structured-output calls to the configured agent LLM (see the module docstring)."""

    def __init__(self, config: Config, db: ResponseCache | None, *, provider: str | None = None,
                 model: str | None = None):
        default_provider, default_model = agent_choice(config)
        self.provider = provider or default_provider
        self.model = model or default_model
        url = base_url(self.provider, config)
        self.config, self.db = config, db
        adapter = adapter_class(self.provider)
        self.adapter = adapter(_resolve_key(self.provider, url), url, config.system.timeout)
        limits = config.system.rate_limit
        self.limiter = RateLimiter(limits.requests_per_minute, limits.tokens_per_minute)
        self.budget = Budget(config.budget_usd)
        self._slots = asyncio.Semaphore(config.system.concurrency)
        self._price = agent_price(self.provider, self.model)
        if self._price is None and (self.provider, self.model) not in _unpriced_warned:
            _unpriced_warned.add((self.provider, self.model))
            log.warning("No price for agent %s/%s in the catalog: its cost counts as 0 and "
                        "budget_usd cannot stop the run.", self.provider, self.model)
        self._counts: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._refused = ""  # the message of an AuthError: no request is sent after one

    # ---------------------------------------------------------------- public

    async def complete_json(self, system: str, user: str, schema: dict, *,
                            schema_name: str = "reply", temperature: float = 0.7,
                            max_tokens: int = 1024) -> Reply:
        """A reply parsed and valid against `schema`, from the cache or the provider."""
        req = Request(self.model, system, user, schema, schema_name, temperature, max_tokens)
        key = request_key(self.provider, req)
        cached = self._from_cache(key)
        if cached is not None:
            return cached
        try:
            return await self._ask(req, key)
        except BuilderError as exc:
            self._failures[failure_category(exc)] += 1
            raise

    def estimate(self, requests: int, input_tokens: int, output_tokens: int) -> Estimate:
        """Requests, tokens, cost and time for a job (totals), at the configured limits."""
        return estimate(self.config, requests, input_tokens, output_tokens,
                        provider=self.provider, model=self.model)

    @property
    def totals(self) -> dict:
        """Counters for this client's run: requests, cache hits, tokens, cost, failures."""
        return {"provider": self.provider, "model": self.model,
                "requests_sent": self._counts["requests_sent"],
                "cache_hits": self._counts["cache_hits"],
                "malformed_retries": self._counts["malformed_retries"],
                "input_tokens": self._counts["input_tokens"],
                "output_tokens": self._counts["output_tokens"],
                "cost_usd": self.budget.spent, "price_known": self._price is not None,
                "budget_usd": self.config.budget_usd, "failures": dict(self._failures)}

    async def aclose(self) -> None:
        """Close the SDK client."""
        await self.adapter.aclose()

    # ---------------------------------------------------------------- internals

    def _cost(self, input_tokens: int, output_tokens: int) -> float:
        if self._price is None:
            return 0.0
        return (input_tokens * self._price[0] + output_tokens * self._price[1]) / 1_000_000

    def _from_cache(self, key: str) -> Reply | None:
        row = self.db.cache_get(key) if self.db is not None else None
        if row is None:
            return None
        self._counts["cache_hits"] += 1
        response = row["response"]
        return Reply(response["data"], response["text"], Usage(0, 0, 0.0), True, key)

    async def _ask(self, req: Request, key: str) -> Reply:
        usage = Usage(0, 0, 0.0)
        asked = req
        for attempt in range(2):
            raw = await self._paid_send(asked)
            usage = Usage(usage.input_tokens + raw.input_tokens,
                          usage.output_tokens + raw.output_tokens,
                          usage.cost_usd + self._cost(raw.input_tokens, raw.output_tokens))
            try:
                data = parse_json_reply(raw, req.schema)
            except BadReply as exc:
                if attempt:
                    raise BadReply(f"{self.provider} twice replied with unusable JSON ({exc}); "
                                   "the item is recorded as malformed_output.") from None
                self._counts["malformed_retries"] += 1
                asked = replace(req, user=req.user + RETRY_NOTE.format(error=exc))
                continue
            self._store(key, data, raw.text, usage)
            return Reply(data, raw.text, usage, False, key)
        raise AssertionError("unreachable")

    async def _paid_send(self, req: Request) -> RawReply:
        tokens_in = (estimate_tokens(req.system + req.user + json.dumps(req.schema))
                     + MESSAGE_OVERHEAD_TOKENS)
        worst = self._cost(tokens_in, req.max_tokens)
        async with self._slots:
            if self._refused:  # the key was refused once: it will be refused again, send nothing
                raise AuthError(self._refused)
            self.budget.reserve(worst)
            try:
                raw = await self.adapter.send(
                    req, max_retries=self.config.system.max_retries,
                    before_attempt=lambda: self._before_attempt(tokens_in + req.max_tokens),
                    on_rate_limited=self.limiter.pause)
            except AuthError as exc:
                self._refused = str(exc)
                raise
            finally:
                self.budget.release(worst)
            self.limiter.succeeded()
            self.budget.charge(self._spend(raw), worst)
        return raw

    async def _before_attempt(self, tokens: int) -> None:
        await self.limiter.wait(tokens)
        self._counts["requests_sent"] += 1

    def _spend(self, raw: RawReply) -> Usage:
        self._counts["input_tokens"] += raw.input_tokens
        self._counts["output_tokens"] += raw.output_tokens
        return Usage(raw.input_tokens, raw.output_tokens,
                     self._cost(raw.input_tokens, raw.output_tokens))

    def _store(self, key: str, data: dict, text: str, usage: Usage) -> None:
        if self.db is not None:
            self.db.cache_put(key, self.provider, self.model, {"data": data, "text": text},
                              usage.input_tokens, usage.output_tokens, usage.cost_usd)
