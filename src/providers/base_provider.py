"""Sending, retrying and error translation for the agent LLM: once, for every provider.

An adapter (one short file per provider) says what it is, builds the SDK call from a `Request`
and pulls text and usage out of the SDK's reply. A reply of any unexpected shape (no choices, a
null message, content as a list of parts, an HTML page, an empty or non-JSON body, null usage)
becomes a `RawReply` with a `problem` (one failed item after one more try), never an exception
of ours: adapters read replies with `dig` and `join_text`, which return None where the shape
differs. Usage the server does not give is None (the client then counts it itself).

The SDKs' own retries are switched off
(max_retries=0) so that every attempt goes through our rate limiter; `BaseProvider.send` retries
timeouts, connection errors, 408/409/429/5xx and 529 with capped exponential backoff and jitter,
and the server's Retry-After wins. SDK exceptions become `src.errors` classes here and nowhere else.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jsonschema

from src.config import BASE_URL_ENV, KEY_ENV
from src.errors import (
    AuthError,
    BadReply,
    BillingError,
    BuilderError,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from src.masking import mask_secrets
from src.utils.text import valid_unicode

INITIAL_RETRY_DELAY = 0.5  # seconds; doubles each attempt
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 120.0  # a longer Retry-After is capped to this
JITTER = 0.25  # share of the delay taken off at random so retries do not march in step
RETRY_STATUSES = frozenset({408, 409, 429, 529})
TIMEOUT_GRACE = 1.0  # our own deadline sits this far behind the SDK's timeout
# A 429 says "not now", not "broken": it gets its own, larger retry allowance, so a provider that
# throttles us harder than configured slows the job down instead of failing its items.
MIN_RATE_LIMIT_RETRIES = 15
FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)
# An account without credit: OpenAI's 429 insufficient_quota, Anthropic's 400 "credit balance is
# too low", OpenRouter/Together-style 402 and "insufficient credits". Retrying cannot help.
BILLING_MARKERS = ("insufficient_quota", "credit balance is too low", "insufficient credits",
                   "insufficient_credits", "billing_hard_limit_reached", "payment required")
BODY_PREVIEW_CHARS = 120


@dataclass(frozen=True)
class Request:
    """One structured-output request, independent of the provider."""

    model: str
    system: str
    user: str
    schema: dict
    schema_name: str = "reply"
    temperature: float = 0.7
    max_tokens: int = 1024


@dataclass
class RawReply:
    """What came back: the JSON text (or the already-parsed tool input), the tokens the server
    reported (None: not said, or not a count), and why the reply cannot be used, if it cannot."""

    text: str
    input_tokens: Any = None
    output_tokens: Any = None
    data: dict | None = None
    problem: str = ""
    cached_tokens: Any = None  # prompt tokens read from the provider's cache (in input_tokens)
    cache_write_tokens: Any = None  # prompt tokens written to it (in input_tokens)

    def __post_init__(self) -> None:
        # A model's "\ud83d" (half of a split emoji) decodes to a lone surrogate that tokenizers,
        # files and SQLite all refuse: every reply's text is made valid here, where it comes in.
        self.text = valid_unicode(self.text)
        if self.data is not None:
            self.data = valid_strings(self.data)


@dataclass
class HttpBody:
    """A reply body read as plain data: its JSON (None when it is not JSON), text and headers."""

    data: Any
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)


def http_body(text: str, headers: Mapping[str, str] | None = None) -> HttpBody:
    """The body of a 200 reply, parsed as JSON if it is JSON."""
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    return HttpBody(data, text, headers or {})


def valid_strings(value: Any) -> Any:
    """`value` (parsed JSON) with every string made valid Unicode (see utils.text.valid_unicode)."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, dict):
        return {valid_unicode(k): valid_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_strings(v) for v in value]
    return value


def dig(value: Any, *path: str | int) -> Any:
    """`value` followed along `path` (dict keys, list indexes, attributes); None where the reply's
    shape differs from the path, so a malformed reply can never raise here."""
    for step in path:
        if value is None:
            return None
        if isinstance(step, int):
            ok = isinstance(value, (list, tuple)) and -len(value) <= step < len(value)
            value = value[step] if ok else None
        elif isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, (str, bytes, int, float, list, tuple)):
            return None
        else:
            value = getattr(value, step, None)
    return value


def join_text(content: Any) -> str | None:
    """Message content as text: a string, or the text parts of a list of parts; None otherwise."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part if isinstance(part, str) else dig(part, "text") for part in content]
        texts = [p for p in parts if isinstance(p, str)]
        return "".join(texts) if texts else None
    return None


def missing(what: str, body: Any) -> str:
    """The problem of a reply that lacks `what`, with a short look at what came instead."""
    shown = body.text if isinstance(body, HttpBody) else repr(body)
    shown = " ".join(shown.split())[:BODY_PREVIEW_CHARS] or "an empty body"
    return f"the reply has no {what} (HTTP 200 with {shown!r})"


@dataclass
class Failure:
    """A foreign exception translated: our error, and whether and when to try again; `kind`
    names it for the run's counters (timeout, connection, rate_limited, server_error, refused)."""

    error: BuilderError
    retryable: bool
    retry_after: float | None = None
    kind: str = "refused"


class BaseProvider:
    """Sending with retries and error mapping; adapters fill in the four SDK-specific parts."""

    name: ClassVar[str] = ""
    key_env_var: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    timeout_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    connection_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    status_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    body_errors: ClassVar[tuple[type[BaseException], ...]] = ()  # the SDK could not parse a 200
    # Where a reply keeps its text and usage (dict keys, list indexes or attributes), for the
    # default parse_reply: e.g. ("choices", 0, "message", "content") and ("usage",).
    text_path: ClassVar[tuple[str | int, ...]] = ()
    usage_path: ClassVar[tuple[str | int, ...]] = ()
    usage_keys: ClassVar[tuple[str, str]] = ("", "")  # input, output token counts in the usage
    # Prompt tokens read from (written to) the provider's prompt cache, within the usage
    cached_path: ClassVar[tuple[str | int, ...]] = ()
    cache_write_path: ClassVar[tuple[str | int, ...]] = ()

    def __init__(self, api_key: str, base_url: str | None, timeout: float):
        self.api_key = api_key
        self.base_url = base_url or self.default_base_url
        self.timeout = timeout
        self._client: Any = None

    # ---------------------------------------------------------- what an adapter provides

    def make_client(self) -> Any:
        """The SDK's async client, with its own retries off and our timeout."""
        raise NotImplementedError

    def build_request(self, req: Request) -> dict:
        """Keyword arguments for the SDK call."""
        raise NotImplementedError

    async def call(self, client: Any, kwargs: dict) -> Any:
        """Make the SDK call."""
        raise NotImplementedError

    def parse_reply(self, response: Any) -> RawReply:
        """Text and usage out of the reply (an `HttpBody` or the SDK's object) at `text_path` and
        `usage_path`, read with `dig`: any unexpected shape gives a RawReply with a `problem`,
        never an exception."""
        data = response.data if isinstance(response, HttpBody) else response
        text = join_text(dig(data, *self.text_path))
        usage = dig(data, *self.usage_path)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.text_path)
        return RawReply(text=text or "", input_tokens=dig(usage, self.usage_keys[0]),
                        output_tokens=dig(usage, self.usage_keys[1]),
                        problem="" if text is not None else missing(where.lstrip("."), response),
                        cached_tokens=dig(usage, *self.cached_path) if self.cached_path else None,
                        cache_write_tokens=dig(usage, *self.cache_write_path)
                        if self.cache_write_path else None)

    def status_and_headers(self, exc: BaseException) -> tuple[int | None, Any]:
        """HTTP status and response headers of an SDK status error."""
        response = getattr(exc, "response", None)
        status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
        return status, getattr(exc, "headers", None) or getattr(response, "headers", None)

    async def close_client(self, client: Any) -> None:
        await client.close()

    # ---------------------------------------------------------- shared

    @property
    def client(self) -> Any:
        if self._client is None:  # made lazily, inside the event loop that uses it
            self._client = self.make_client()
        return self._client

    async def aclose(self) -> None:
        """Close the SDK client (safe to call twice)."""
        client, self._client = self._client, None
        if client is not None:
            await self.close_client(client)

    async def send(self, req: Request, *, max_retries: int,
                   before_attempt: Callable[[], Awaitable[None]],
                   on_rate_limited: Callable[[float], None] | None = None,
                   on_failure: Callable[[str, bool], None] | None = None) -> RawReply:
        """Send with retries; `before_attempt` runs before each try (the rate limiter);
        `on_failure(kind, retried)` hears of every failed try (Failure.kind)."""
        errors = throttled = 0
        while True:
            await before_attempt()
            try:
                return await self.attempt(req)
            except self.foreign_errors() as exc:
                failure = self.translate(exc, req)
                if isinstance(failure.error, BadReply):  # a 200 the SDK could not read
                    return RawReply("", problem=str(failure.error))
                limited = isinstance(failure.error, RateLimited)
                throttled, errors = throttled + limited, errors + (not limited)
                spent = (throttled > max(max_retries, MIN_RATE_LIMIT_RETRIES) if limited
                         else errors > max_retries)
                if on_failure is not None:
                    on_failure(failure.kind, failure.retryable and not spent)
                if not failure.retryable or spent:
                    raise failure.error from exc
            if failure.retry_after and on_rate_limited and limited:
                on_rate_limited(failure.retry_after)
            await asyncio.sleep(retry_delay((throttled if limited else errors) - 1,
                                            failure.retry_after))

    async def attempt(self, req: Request) -> RawReply:
        """One try, bounded by our own deadline even if the SDK's timeout does not fire."""
        async with asyncio.timeout(self.timeout + TIMEOUT_GRACE):
            try:
                response = await self.call(self.client, self.build_request(req))
            except self.body_errors as exc:
                return RawReply("", problem=f"{self.name} answered HTTP 200 with a body that is "
                                f"not JSON ({exc.__class__.__name__}: {exc})")
        return self.parse_reply(response)

    def foreign_errors(self) -> tuple[type[BaseException], ...]:
        return (TimeoutError, *self.timeout_errors, *self.connection_errors, *self.status_errors)

    def translate(self, exc: BaseException, req: Request) -> Failure:
        """An SDK exception as our error, retryable or not."""
        if isinstance(exc, (TimeoutError, *self.timeout_errors)):
            return Failure(ProviderUnavailable(
                f"{self.name} did not answer within {self.timeout:g} s (system.timeout in "
                "config.yaml); the request was retried and then given up."), True, kind="timeout")
        if isinstance(exc, self.connection_errors):
            return Failure(ProviderUnavailable(
                f"Cannot reach {self.name} at {self.base_url} ({exc.__class__.__name__}). Check "
                f"the network, or {BASE_URL_ENV[self.name]} / system.base_urls.{self.name}."), True,
                kind="connection")
        status, headers = self.status_and_headers(exc)
        return failure_for_status(self.name, status or 0, headers, req.model, error_detail(exc))


def error_detail(exc: BaseException) -> str:
    """The SDK error's text plus its error code (OpenAI puts `insufficient_quota` only there)."""
    text = str(exc)
    code = getattr(exc, "code", None)
    return f"{text} ({code})" if isinstance(code, str) and code not in text else text


def failure_for_status(provider: str, status: int, headers: Any, model: str,
                       detail: str) -> Failure:
    """Map an HTTP status to our error: auth, rate limit, unavailable, not found, rejected."""
    detail = mask_secrets(detail.replace("\n", " "))
    billing = status == 402 or any(marker in detail.lower() for marker in BILLING_MARKERS)
    detail, after = detail[:300], retry_after_seconds(headers)
    if billing and status >= 400:
        return Failure(BillingError(
            f"{provider} refused the request for billing (HTTP {status}: {detail}): the account "
            "has no credit or quota left. Add credit or raise the spending limit on the "
            f"provider's billing page (or choose another agent), then run again; nothing more "
            "is sent in this run."), False)
    if status in (401, 403):
        return Failure(AuthError(
            f"{provider} refused the API key (HTTP {status}): check {KEY_ENV[provider]} in .env "
            "and that the key may use this model."), False)
    if status == 429:
        return Failure(RateLimited(
            f"{provider} kept answering 429 (rate limit) after the retries (system.max_retries). "
            "Lower system.rate_limit or system.concurrency in config.yaml, or wait and run again: "
            "finished requests are cached."), True, after, "rate_limited")
    if status in RETRY_STATUSES or status >= 500:
        return Failure(ProviderUnavailable(
            f"{provider} is unavailable (HTTP {status}: {detail}). Try again later; finished "
            "requests are cached."), True, after, "server_error")
    if 200 <= status < 300:
        return Failure(BadReply(f"{provider} answered, but the body could not be read: {detail}"),
                       False)
    if status == 404:
        return Failure(ConfigError(
            f"{provider} has no model {model!r} at this address (HTTP 404). Check "
            f"system.agentic_model and {BASE_URL_ENV[provider]} / system.base_urls.{provider}."),
            False)
    return Failure(ProviderError(f"{provider} rejected the request (HTTP {status}: {detail})."),
                   False)


def retry_after_seconds(headers: Any) -> float | None:
    """Retry-After as seconds (retry-after-ms, seconds, or an HTTP date), capped; None if absent."""
    if not headers:
        return None
    value: float | None = None
    try:
        if headers.get("retry-after-ms"):
            value = float(headers["retry-after-ms"]) / 1000
        elif headers.get("retry-after"):
            value = float(headers["retry-after"])
    except ValueError:
        parsed = email.utils.parsedate_tz(headers.get("retry-after", ""))
        value = email.utils.mktime_tz(parsed) - time.time() if parsed else None
    if value is None or value != value or value < 0:
        return None
    return min(value, MAX_RETRY_AFTER)


def retry_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before try `attempt + 1`: Retry-After if given, else capped backoff."""
    if retry_after is not None:
        return retry_after
    delay = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2 ** attempt)
    return delay * (1 - JITTER * random.random())


# ------------------------------------------------------------------ structured output

def parse_json_reply(raw: RawReply, schema: dict) -> dict:
    """The reply as a dict valid against `schema`; BadReply saying what is wrong."""
    data = raw.data
    if data is None:
        text = raw.text.strip()
        fenced = FENCE.match(text)
        try:
            data = json.loads(fenced.group(1) if fenced else text)
        except json.JSONDecodeError as exc:
            raise BadReply(f"the reply is not valid JSON ({exc.msg} at character {exc.pos})") \
                from None
    if not isinstance(data, dict):
        raise BadReply(f"the reply is JSON but not an object (got {type(data).__name__})")
    data = lenient(valid_strings(data), schema)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema)
                                             .iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the top level"
        raise BadReply(f"the reply does not match the schema at {where}: {error.message}")
    return data


def lenient(value: Any, schema: dict) -> Any:
    """`value` read the way a careful reader would before validating it against `schema`: a
    nullable key the model left out is null, and keys a closed object does not have are dropped
    (nothing reads them). Real models do both when a provider does not enforce the schema."""
    if isinstance(value, list) and schema.get("type") == "array":
        return [lenient(item, schema.get("items", {})) for item in value]
    if not isinstance(value, dict) or schema.get("type") != "object":
        return value
    props = schema.get("properties", {})
    closed = schema.get("additionalProperties") is False
    out = {k: lenient(v, props.get(k, {})) for k, v in value.items() if k in props or not closed}
    for key in schema.get("required", []):
        kind = props.get(key, {}).get("type")
        if key not in out and isinstance(kind, list) and "null" in kind:
            out[key] = None
    return out


def schema_is_strict(schema: dict) -> bool:
    """True when OpenAI's strict mode accepts the schema (closed objects, all keys required)."""
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False or \
                set(schema.get("required", [])) != set(props):
            return False
        return all(schema_is_strict(sub) for sub in props.values())
    if schema.get("type") == "array":
        return schema_is_strict(schema.get("items", {}))
    return True


def schema_prompt(schema: dict) -> str:
    """The instruction that carries the schema for providers with JSON mode only."""
    return ("Reply with one JSON object only, no prose, matching this JSON schema:\n```json\n"
            + json.dumps(schema, ensure_ascii=False) + "\n```")
