"""The providers' Batch APIs: what is shared by the four adapters (batch_*.py beside this file).

A `BatchAdapter` wraps the live adapter of the same provider (`*_provider.py`) and reuses it: a
batch line carries exactly the body the live call would send (`build_request`), and a result is
read by the live `parse_reply`, so batch replies go through the same parsing, JSON checking and
repair path as live ones. What an adapter adds is the provider's batch protocol: upload and
create, retrieve/poll, results, list (to find a batch whose create call was interrupted) and
cancel. Every call goes through `call`, which retries like the live client and turns SDK errors
into `src.errors` (one translation: `BaseProvider.translate`).

Every provider bills batch work at half the live price (sources in `DISCOUNT_SOURCES`, checked
2026-12-05). Results are matched to requests by `custom_id`, never by position (none of the four
promises result order), and a custom_id matches `^[A-Za-z0-9_-]{1,64}$` for all four (Anthropic's
documented pattern, the strictest).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from src.errors import AuthError, BuilderError, ConfigError, ProviderError
from src.providers.base_provider import BaseProvider, HttpBody, RawReply, Request, dig, retry_delay
from src.providers.estimate import Estimate
from src.providers.prices import AgentPrice

T = TypeVar("T")
BATCH_DISCOUNT = 0.5
# The 50% batch discount, per provider (each page says so in its first lines):
DISCOUNT_SOURCES = {
    "openai": "help.openai.com/en/articles/9197833 (Batch API FAQ: 50% off input and output)",
    "anthropic": "platform.claude.com/docs/build-with-claude/batch-processing (reducing costs "
                 "by 50%)",
    "google": "ai.google.dev/gemini-api/docs/batch-api and developers.googleblog.com, 2025-07-07 "
              "(50% of the standard cost)",
    "mistral": "docs.mistral.ai/studio-api/batch-processing (a 50% discount)",
}
SHARD_MARGIN = 0.95  # stay this far under a provider's byte cap (our count of the JSONL bytes)
WINDOW = "within 24 h"  # every provider's completion window (OpenAI's only value is "24h")


def batch_price(live: AgentPrice, provider: str) -> AgentPrice:
    """The price of the same model through the provider's Batch API."""
    source = DISCOUNT_SOURCES.get(provider, "")
    return AgentPrice(live.input_per_million * BATCH_DISCOUNT,
                      live.output_per_million * BATCH_DISCOUNT,
                      f"batch: 50% of {live.source}; discount: {source}")


def batch_estimate(live: Estimate, provider: str) -> Estimate:
    """The live estimate through the Batch API: the same requests and tokens at half price,
    done by the provider within 24 h (outside the per-minute rate limits)."""
    price = batch_price(live.price, provider) if live.price else None
    return Estimate(live.requests, live.input_tokens, live.output_tokens,
                    live.cost_usd * BATCH_DISCOUNT, 24 * 3600.0, price, "")


def describe_batch_estimate(live: Estimate, provider: str) -> str:
    batch = batch_estimate(live, provider)
    cost = f"about ${batch.cost_usd:,.2f}" if batch.price else "cost unknown"
    return (f"{batch.requests:,} requests through the {provider} Batch API, {cost} "
            f"(half of live), results {WINDOW} (a round: what the run needs next)")


@dataclass
class LineResult:
    """One request's outcome in a finished batch."""

    custom_id: str
    state: str  # answered | failed | expired | cancelled
    raw: RawReply | None = None  # the reply, when answered
    error: str = ""


@dataclass
class BatchState:
    """Where a provider batch stands."""

    status: str  # the provider's own word
    done: bool  # ended: results (of any kind) can be read
    total: int = 0
    finished: int = 0  # requests done so far, whatever their outcome
    failed: int = 0

    def describe(self) -> str:
        counts = f"{self.finished:,} of {self.total:,} done" if self.total else "counts not given"
        return f"{self.status} ({counts}{f', {self.failed:,} failed' if self.failed else ''})"


class BatchAdapter:
    """One provider's Batch API; subclasses fill in the SDK calls."""

    provider: ClassVar[str] = ""
    max_requests: ClassVar[int] = 50_000
    max_bytes: ClassVar[int] = 100_000_000

    def __init__(self, live: BaseProvider, max_retries: int):
        self.live = live
        self.max_retries = max_retries
        self._client: Any = None

    # ------------------------------------------------------------ what an adapter provides

    def make_client(self) -> Any:
        raise NotImplementedError

    def line(self, custom_id: str, req: Request) -> dict:
        """One request as the provider's batch input takes it."""
        raise NotImplementedError

    def create(self, lines: list[dict], tag: str, model: str) -> tuple[str, str]:
        """Upload (where needed) and create the batch; returns (batch id, status). Must not be
        retried blindly: a create that timed out may still have created the batch."""
        raise NotImplementedError

    def state(self, batch_id: str) -> BatchState:
        raise NotImplementedError

    def results(self, batch_id: str) -> list[LineResult]:
        """Every result line of an ended batch (lines of requests never run may be missing)."""
        raise NotImplementedError

    def find(self, tag: str, created_after: float, count: int, known: set[str]) -> str | None:
        """The id of the batch we created under `tag` (a create call interrupted before its answer
        was stored), or None when the provider has no such batch."""
        raise NotImplementedError

    def cancel(self, batch_id: str) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ shared

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def request_model(self, model: str) -> Request:
        return Request(model, "", "", {})

    def call(self, fn: Callable[..., T], *args: Any, retry: bool = True, **kwargs: Any) -> T:
        """An SDK call with our retries (the SDKs' own are off) and our errors."""
        attempt = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except self.live.foreign_errors() as exc:
                failure = self.live.translate(exc, self.request_model(""))
                if not (retry and failure.retryable) or attempt >= self.max_retries:
                    raise failure.error from exc
            time.sleep(retry_delay(attempt, failure.retry_after))
            attempt += 1

    def submit(self, lines: list[dict], tag: str, model: str,
               known: set[str]) -> tuple[str, str]:
        """Create the batch; a failure that may have created it anyway (timeout, connection,
        5xx) is looked up by tag at once (`known`: batch ids already ours, never adopted), and
        raised only when it is not found."""
        started = time.time()
        try:
            return self.create(lines, tag, model)
        except (AuthError, ConfigError):
            raise
        except ProviderError:
            found = self.find(tag, started, len(lines), known)
            if found is None:
                raise
            return found, "submitted"

    def shard_sizes(self, lines: list[dict]) -> list[int]:
        """How many of `lines`, in order, go in each batch to stay within the provider's
        request and byte caps."""
        sizes: list[int] = []
        count = size = 0
        cap = int(self.max_bytes * SHARD_MARGIN)
        for line in lines:
            n = len(json.dumps(line, ensure_ascii=False).encode("utf-8")) + 1
            if count and (count >= self.max_requests or size + n > cap):
                sizes.append(count)
                count = size = 0
            count, size = count + 1, size + n
        return sizes + [count] if count else sizes


def jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")


def read_jsonl(data: bytes | str) -> list[dict]:
    """The JSON objects of a results file; a line that is not an object is skipped."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    found = []
    for line in text.splitlines():
        try:
            obj = json.loads(line) if line.strip() else None
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            found.append(obj)
    return found


def chat_line_result(live: BaseProvider, obj: dict) -> LineResult:
    """A result line of the OpenAI-style format (OpenAI and Mistral): `custom_id`, `response`
    {status_code, body} and `error`; a 200 body is read by the live adapter."""
    custom_id = str(obj.get("custom_id") or "")
    body, status = dig(obj, "response", "body"), dig(obj, "response", "status_code")
    if status == 200 and isinstance(body, dict):
        return LineResult(custom_id, "answered", live.parse_reply(HttpBody(body, json.dumps(body))))
    error = obj.get("error")
    message = (dig(body, "error", "message") or dig(body, "message") or dig(error, "message")
               or (error if isinstance(error, str) else None) or f"HTTP {status}")
    code = str(dig(error, "code") or dig(body, "error", "code") or "")
    state = "expired" if "expired" in code else "cancelled" if "cancel" in code else "failed"
    return LineResult(custom_id, state, error=f"{message}{f' ({code})' if code else ''}")


def missing_results(expected: list[str], got: list[LineResult], status: str) -> list[LineResult]:
    """Results for the requests a batch ended without (expired, cancelled or failed batch)."""
    seen = {r.custom_id for r in got}
    low = status.lower()
    state = "expired" if "expire" in low or "timeout" in low else \
        "cancelled" if "cancel" in low else "failed"
    return [LineResult(cid, state, error=f"the batch ended {status} without a result for this "
                                         "request") for cid in expected if cid not in seen]


def describe_error(exc: BuilderError) -> str:
    return str(exc).split("\n", 1)[0]
