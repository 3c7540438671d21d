"""The agent LLM client: structured output at the rate limit, within budget, resumable.

Agents call `LLMClient.complete_json` from many coroutines at once. Each call looks in the resume
cache first; a miss waits for one of `system.concurrency` slots, reserves its worst-case cost in
the `Budget` (budget.py: real token counts of what is sent), waits for its turn at the
`RateLimiter` (every attempt, retries included) and is stored in SQLite as soon as it parses. It is
charged at the usage the server reports, or at our own count when the server gives none. A reply
that does not match the schema, or that cannot be read at all, is asked for once more with the
error appended, then fails as `malformed_output` (one failed item; the run goes on).

Until one answer has come back, requests go one at a time: a refused key or an account without
credit then costs one request, not `system.concurrency` of them. After such a refusal (AuthError,
BillingError) no request leaves, including those already waiting for the limiter or a retry.

Each part stands alone for the engines: `RateLimiter` paces, `Budget` (budget.py) reserves and
charges, `request_tokens` sizes a request, `request_key` names it in the cache. The Ray engine puts
proxies of one shared limiter and budget in `client.limiter` and `client.budget`
(src/engine/limits.py); a Batch API engine can reuse the same parts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from src.config import (
    BASE_URL_ENV,
    KEY_ENV,
    Config,
    agent_choice,
    api_key,
    base_url,
)
from src.errors import (
    AuthError,
    BadReply,
    BatchPending,
    BillingError,
    BudgetExhausted,
    BuilderError,
    ConfigError,
    ProviderUnavailable,
    RateLimited,
)
from src.masking import mask_url
from src.providers.base_provider import RawReply, Request, parse_json_reply
from src.providers.budget import (
    MESSAGE_OVERHEAD_TOKENS,
    Budget,
    Usage,
    count_tokens,
    usage_count,
    usd,
)
from src.providers.estimate import Estimate, estimate
from src.providers.prices import AgentPrice, is_local, price_for
from src.providers.registry import adapter_class

log = logging.getLogger(__name__)
PLACEHOLDER_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key
TOKEN_BURST_SECONDS = 1.0  # the token limiter lets one second's worth of tokens through at once
# After a 429 the provider's real limit is below the configured one: cut our request rate by 4 (at most
# once per Retry-After window), then win it back slowly as requests succeed.
RATE_BACKOFF_FACTOR = 4.0
RATE_RECOVERY_FACTOR = 0.97  # request interval × this after each success, down to the configured
RETRY_NOTE = ("\n\nYour previous reply could not be used: {error}. Reply again with one JSON "
              "object that matches the schema exactly.")
# Failed tries the run counts (Failure.kind → counter), and `retries`: those tried again.
ATTEMPT_COUNTERS = ("timeouts", "rate_limited_429", "server_errors", "connection_errors",
                    "retries")
_ATTEMPT_COUNTER = {"timeout": "timeouts", "rate_limited": "rate_limited_429",
                    "server_error": "server_errors", "connection": "connection_errors"}
OUTPUT_MARGIN = 1.25  # a reservation expects this much more output than replies have averaged
MAX_SPEED_SAMPLES = 2000  # answers kept to fit the server's pace
CATEGORIES = ((BudgetExhausted, "budget"), (BillingError, "billing"), (AuthError, "auth"),
              (RateLimited, "rate_limited"), (BatchPending, "pending"),
              (ProviderUnavailable, "unavailable"), (BadReply, "malformed_output"),
              (ConfigError, "config"))


def network_counts(totals: dict) -> dict[str, int]:
    """Timeouts, 429s, server errors and retries of a run's requests, from a client's totals."""
    return {name: int(totals.get(name, 0)) for name in ATTEMPT_COUNTERS}


class ResponseCache(Protocol):
    """Where paid replies are kept for resume (the caller hands in the SQLite store)."""

    def cache_get(self, key: str) -> dict | None: ...

    def cache_put(self, key: str, provider: str, model: str, response: Any, input_tokens: int,
                  output_tokens: int, cost_usd: float) -> None: ...


@dataclass
class Reply:
    data: dict
    text: str
    usage: Usage
    cached: bool
    key: str


def request_tokens(req: Request, provider: str) -> int:
    """Input tokens of a request as sent: system, user text and schema, counted for the budget
    and the token limiter (see budget.count_tokens)."""
    text = req.system + req.user + json.dumps(req.schema, ensure_ascii=False)
    return count_tokens(text, provider, req.model) + MESSAGE_OVERHEAD_TOKENS


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

    def settle(self, tokens: int) -> None:
        """A request used `tokens` more (or, negative, fewer) than it reserved: the token limit
        is kept on what was really used, not on the reservation's guess."""
        self._token_tat += tokens * self.seconds_per_token


def require_agent(config: Config) -> AgentPrice:
    """Raise now (before any work) when the agent LLM cannot be used: no key, no model name, or
    no price for budget_usd to stop it by. Returns the price the run will use."""
    provider, model = agent_choice(config)
    url = base_url(provider, config)
    if not model:
        raise ConfigError(_model_missing(config, url))
    _resolve_key(provider, url)
    return agent_price_or_error(config, provider, model, url)


def _model_missing(config: Config, url: str | None) -> str:
    configured = config.system.agentic_llm
    source = BASE_URL_ENV["llama"] if os.environ.get(BASE_URL_ENV["llama"]) else \
        "system.base_urls.llama"
    return (f"{source} is set ({mask_url(url or '')}) and {configured} has no key, "
            f"so the agent LLM is llama at that address, but {config.system.agentic_model!r} is "
            f"one of {configured}'s models: name the model that server runs with --agent-model NAME (or "
            "AGENT_MODEL=NAME in .env, or system.agentic_llm: llama and system.agentic_model: "
            "NAME in config.yaml).")


def agent_price_or_error(config: Config, provider: str, model: str,
                         url: str | None) -> AgentPrice:
    """The price of an agent model, or ConfigError saying how to set one."""
    price = price_for(config, provider, model, url)
    if price is not None:
        return price
    where = f" at {mask_url(url)}" if url else ""
    raise ConfigError(
        f"No price is known for the agent model {provider}/{model}{where}, so budget_usd "
        f"({usd(config.budget_usd)}) could not stop the run. Add its price to config.yaml from "
        "the provider's pricing page, e.g.\n  system:\n    agent_price: {input_per_million: "
        "0.20, output_per_million: 0.60}\n(USD per 1M tokens; 0 and 0 if it is free), or choose "
        "an agent model with a known price (--agent-provider/--agent-model).")


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
    if provider in ("openai", "llama") and is_local(url):
        return PLACEHOLDER_KEY
    raise AuthError(f"No API key for {provider}: set {KEY_ENV[provider]} in .env (see "
                    ".env.example), or choose another agent with --agent-provider or "
                    "system.agentic_llm in config.yaml. To work offline: identify mode "
                    "(--mode identify) needs no key, or set LLAMA_BASE_URL to a local "
                    "OpenAI-compatible server (Ollama, vLLM, llama.cpp) with --agent-model NAME.")


class LLMClient:
    """Structured-output calls to the configured agent LLM (see the module docstring)."""

    def __init__(self, config: Config, db: ResponseCache | None, *, provider: str | None = None,
                 model: str | None = None):
        default_provider, default_model = agent_choice(config)
        self.provider = provider or default_provider
        self.model = model or default_model
        url = base_url(self.provider, config)
        self.config, self.db = config, db
        key = _resolve_key(self.provider, url)
        self.price = agent_price_or_error(config, self.provider, self.model, url)
        self.adapter = adapter_class(self.provider)(key, url, config.system.timeout)
        limits = config.system.rate_limit
        self.limiter = RateLimiter(limits.requests_per_minute, limits.tokens_per_minute)
        self.budget = Budget(config.budget_usd)
        self._slots = asyncio.Semaphore(config.system.concurrency)
        self._first = asyncio.Lock()  # held by the one request sent before any answer came back
        self._answered = False
        self._counts: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._refused: AuthError | None = None  # a refused key or account: nothing more is sent
        # what replies of each kind (schema name) wrote, as a share of their max_tokens
        self._written: Counter[str] = Counter()
        self._allowed: Counter[str] = Counter()
        self.answers: list[tuple[float, int]] = []  # (seconds, output tokens) of answered tries

    # ---------------------------------------------------------------- public

    async def complete_json(self, system: str, user: str, schema: dict, *,
                            schema_name: str = "reply", temperature: float = 0.7,
                            max_tokens: int = 1024) -> Reply:
        """A reply parsed and valid against `schema`, from the cache or the provider."""
        req, key, cached = self._lookup(Request(self.model, system, user, schema, schema_name,
                                                temperature, max_tokens))
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
                "cached_input_tokens": self._counts["cached_input_tokens"],
                "output_tokens": self._counts["output_tokens"],
                **{name: self._counts[name] for name in ATTEMPT_COUNTERS},
                "usage_counted_by_us": self._counts["usage_counted_by_us"],
                "cost_usd": self.budget.spent, "price_known": True,
                "price": self.price.describe(), "budget_usd": self.config.budget_usd,
                "budget_note": self.budget.summary()
                if self._failures["budget"] or self.budget.overspend else "",
                "failures": dict(self._failures)}

    async def aclose(self) -> None:
        """Close the SDK client."""
        await self.adapter.aclose()

    # ---------------------------------------------------------------- internals

    def _lookup(self, req: Request) -> tuple[Request, str, Reply | None]:
        """The request, its resume-cache key, and its cached reply (None: not paid for yet)."""
        key = request_key(self.provider, req)
        return req, key, self._from_cache(key)

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
            raw, charge = await self._paid_send(asked)
            usage = Usage(usage.input_tokens + charge.input_tokens,
                          usage.output_tokens + charge.output_tokens,
                          usage.cost_usd + charge.cost_usd)
            try:
                if raw.problem:
                    raise BadReply(raw.problem)
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

    async def _paid_send(self, req: Request) -> tuple[RawReply, Usage]:
        tokens_in = request_tokens(req, self.provider)
        worst = self.price.cost(tokens_in, req.max_tokens)
        expected = tokens_in + self.expected_output(req)  # what the token limiter is told
        started = [0.0]

        async def before_attempt() -> None:
            await self._before_attempt(expected)
            started[0] = time.monotonic()
        async with self._slots:
            first = await self._wait_for_first_answer()
            try:
                self._stop_if_refused()
                self.budget.reserve(worst)
                try:
                    raw = await self.adapter.send(
                        req, max_retries=self.config.system.max_retries,
                        before_attempt=before_attempt, on_rate_limited=self.limiter.pause,
                        on_failure=self._count_failure)
                except AuthError as exc:  # BillingError too: the account refuses us
                    self._refused = self._refused or exc
                    raise
                finally:
                    self.budget.release(worst)
            finally:
                if first:
                    self._answered = True
                    self._first.release()
            self.limiter.succeeded()
            charge = self._charge(raw, tokens_in)
            self.budget.charge(charge, worst)
            self._learn(req, charge, time.monotonic() - started[0])
            self.limiter.settle(charge.input_tokens + charge.output_tokens - expected)
        return raw, charge

    def expected_output(self, req: Request) -> int:
        """Output tokens a request of this kind will likely write: what this run's replies of
        the same schema wrote per max_tokens allowed (with a margin); max_tokens until one came."""
        allowed = self._allowed[req.schema_name]
        if not allowed:
            return req.max_tokens
        share = self._written[req.schema_name] / allowed * OUTPUT_MARGIN
        return min(req.max_tokens, math.ceil(req.max_tokens * share))

    def output_share(self, schema_name: str) -> float:
        """The share of max_tokens this run's paid replies of one kind wrote (0: none yet)."""
        allowed = self._allowed[schema_name]
        return self._written[schema_name] / allowed if allowed else 0.0

    def _learn(self, req: Request, charge: Usage, seconds: float) -> None:
        self._written[req.schema_name] += charge.output_tokens
        self._allowed[req.schema_name] += max(1, req.max_tokens)
        if len(self.answers) < MAX_SPEED_SAMPLES:
            self.answers.append((seconds, charge.output_tokens))

    def _count_failure(self, kind: str, retried: bool) -> None:
        """A try failed (timeout, 429, 5xx, connection): counted, and logged."""
        counter = _ATTEMPT_COUNTER.get(kind)
        if counter:
            self._counts[counter] += 1
        self._counts["retries"] += retried
        log.info("%s request failed (%s)%s", self.provider, kind.replace("_", " "),
                 ", trying again" if retried else ", given up")

    async def _wait_for_first_answer(self) -> bool:
        """Until one request has been answered, one goes at a time; True for the one going."""
        if self._answered:
            return False
        await self._first.acquire()
        if self._answered:
            self._first.release()
            return False
        return True

    def _stop_if_refused(self) -> None:
        if self._refused is not None:
            raise type(self._refused)(f"{self._refused} (not sent: the provider refused an "
                                      "earlier request)")

    async def _before_attempt(self, tokens: int) -> None:
        await self.limiter.wait(tokens)
        self._stop_if_refused()  # refused while this one waited for its slot or a retry
        self._counts["requests_sent"] += 1

    def _charge(self, raw: RawReply, tokens_in: int) -> Usage:
        """Tokens and cost of one reply: the server's usage, or our own count where it gave none
        (missing, negative or not a number: never a discount)."""
        reported_in, reported_out = usage_count(raw.input_tokens), usage_count(raw.output_tokens)
        input_tokens = tokens_in if reported_in is None else reported_in
        output_tokens = (count_tokens(raw.text, self.provider, self.model)
                         if reported_out is None else reported_out)
        self._counts["usage_counted_by_us"] += reported_in is None or reported_out is None
        cached = min(input_tokens, usage_count(raw.cached_tokens) or 0)
        written = min(input_tokens - cached, usage_count(raw.cache_write_tokens) or 0)
        self._counts["input_tokens"] += input_tokens
        self._counts["cached_input_tokens"] += cached
        self._counts["output_tokens"] += output_tokens
        return Usage(input_tokens, output_tokens,
                     self.price.cost(input_tokens, output_tokens, cached, written), cached)

    def _store(self, key: str, data: dict, text: str, usage: Usage) -> None:
        if self.db is not None:
            self.db.cache_put(key, self.provider, self.model, {"data": data, "text": text},
                              usage.input_tokens, usage.output_tokens, usage.cost_usd)
