"""Every SDK error our adapters catch maps to one of our errors (built by the SDKs themselves)."""

from __future__ import annotations

import inspect
import time
from email.utils import formatdate

import anthropic
import httpx2
import openai
import pytest
from google.genai import errors as google_errors
from mistralai.client import errors as mistral_errors

from src.config import AGENT_PROVIDERS
from src.errors import (
    AuthError,
    BadReply,
    BillingError,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from src.providers.base_provider import Request, retry_after_seconds, retry_delay
from src.providers.registry import adapter_class

REQ = Request("test-model", "system", "user", {"type": "object"})
HTTP_REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
EXPECTED = {400: ProviderError, 401: AuthError, 402: BillingError, 403: AuthError,
            404: ConfigError, 408: ProviderUnavailable, 409: ProviderUnavailable,
            413: ProviderError, 422: ProviderError, 429: RateLimited, 500: ProviderUnavailable,
            502: ProviderUnavailable, 503: ProviderUnavailable, 504: ProviderUnavailable,
            529: ProviderUnavailable}
RETRYABLE = {408, 409, 429, 500, 502, 503, 504, 529}
# Exported by the SDKs but never raised by a chat/messages call as we make it (no streaming,
# no .parse() helper, no webhooks, an explicit key). A new SDK error type fails the test below.
NOT_RAISED = {
    openai: {"OpenAIError", "ContentFilterFinishReasonError", "LengthFinishReasonError",
             "InvalidWebhookSignatureError", "WebSocketConnectionClosedError",
             "WebSocketQueueFullError", "_AmbiguousModuleClientUsageError"},
    anthropic: {"AnthropicError", "CredentialsError", "IdentityTokenFileError",
                "RetryableError", "WorkloadIdentityError"},
}


def adapter(provider: str):
    return adapter_class(provider)("sk-test-123", "http://127.0.0.1:9", 5.0)


def http_response(status: int, headers: dict | None = None,
                  error: dict | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers,
                           json={"error": error or {"message": "boom", "type": "x", "code": status}},
                           request=HTTP_REQUEST)


def sdk_status_error(provider: str, status: int, headers: dict | None = None,
                     error: dict | None = None) -> Exception:
    """The exception the provider's SDK itself raises for this HTTP status (and error body)."""
    response = http_response(status, headers, error)
    if provider in ("openai", "llama"):
        client = openai.OpenAI(api_key="sk-test-123", base_url="http://127.0.0.1:9/v1")
        return client._make_status_error_from_response(response)
    if provider == "anthropic":
        client = anthropic.Anthropic(api_key="sk-test-123", base_url="http://127.0.0.1:9")
        return client._make_status_error_from_response(response)
    if provider == "google":
        try:
            google_errors.APIError.raise_error(status, response.json(), response)
        except google_errors.APIError as exc:
            return exc
    return mistral_errors.SDKError("API error occurred", response)


@pytest.mark.parametrize("status", sorted(EXPECTED))
@pytest.mark.parametrize("provider", sorted(AGENT_PROVIDERS))
def test_every_status_maps_to_our_error(provider, status):
    exc = sdk_status_error(provider, status)
    prov = adapter(provider)
    assert isinstance(exc, prov.foreign_errors())
    failure = prov.translate(exc, REQ)
    assert type(failure.error) is EXPECTED[status]
    assert failure.retryable is (status in RETRYABLE)


@pytest.mark.parametrize("provider", sorted(AGENT_PROVIDERS))
def test_retry_after_from_the_sdk_error_is_used(provider):
    exc = sdk_status_error(provider, 429, {"retry-after": "7"})
    failure = adapter(provider).translate(exc, REQ)
    assert isinstance(failure.error, RateLimited) and failure.retry_after == 7


# Accounts without credit, as the providers word it (issue 21 #7): never retried as rate limits.
OPENAI_QUOTA = {"message": "You exceeded your current quota, please check your plan and billing "
                "details.", "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}
ANTHROPIC_CREDIT = {"type": "invalid_request_error", "message": "Your credit balance is too low "
                    "to access the Anthropic API. Please go to Plans & Billing to upgrade."}
OPENAI_RATE = {"message": "Rate limit reached for gpt-4o-mini on requests per min (RPM)",
               "type": "requests", "code": "rate_limit_exceeded"}


@pytest.mark.parametrize(("provider", "status", "error"), [
    ("openai", 429, OPENAI_QUOTA), ("llama", 429, OPENAI_QUOTA), ("anthropic", 400, ANTHROPIC_CREDIT),
    ("llama", 402, {"message": "Insufficient credits", "code": 402})])
def test_an_account_without_credit_is_a_billing_error_never_retried(provider, status, error):
    failure = adapter(provider).translate(sdk_status_error(provider, status, None, error), REQ)
    assert isinstance(failure.error, BillingError) and not failure.retryable
    assert f"refused the request for billing (HTTP {status}" in str(failure.error)
    assert "nothing more is sent" in str(failure.error)


def test_an_ordinary_429_stays_a_rate_limit():
    failure = adapter("openai").translate(sdk_status_error("openai", 429, None, OPENAI_RATE), REQ)
    assert isinstance(failure.error, RateLimited) and failure.retryable


TRANSPORT = {
    "openai": [openai.APITimeoutError(HTTP_REQUEST),
               openai.APIConnectionError(request=HTTP_REQUEST)],
    "anthropic": [anthropic.APITimeoutError(HTTP_REQUEST),
                  anthropic.APIConnectionError(request=HTTP_REQUEST)],
    "google": [httpx2.ReadTimeout("slow", request=HTTP_REQUEST),
               httpx2.ConnectError("refused", request=HTTP_REQUEST),
               httpx2.RemoteProtocolError("cut", request=HTTP_REQUEST)],
    "mistral": [httpx2.ReadTimeout("slow", request=HTTP_REQUEST),
                httpx2.ConnectError("refused", request=HTTP_REQUEST),
                mistral_errors.NoResponseError()],
}
TRANSPORT["llama"] = TRANSPORT["openai"]


@pytest.mark.parametrize("provider", sorted(AGENT_PROVIDERS))
def test_timeouts_and_connection_errors_are_retryable_unavailable(provider):
    prov = adapter(provider)
    for exc in [TimeoutError(), *TRANSPORT[provider]]:
        assert isinstance(exc, prov.foreign_errors())
        failure = prov.translate(exc, REQ)
        assert isinstance(failure.error, ProviderUnavailable) and failure.retryable, exc
    timeout = prov.translate(TRANSPORT[provider][0], REQ)
    assert "did not answer within 5 s (system.timeout" in str(timeout.error)


def test_an_unreadable_success_body_is_a_bad_reply():
    cases = [("openai", openai.APIResponseValidationError(http_response(200), None)),
             ("anthropic", anthropic.APIResponseValidationError(http_response(200), None)),
             ("mistral", mistral_errors.ResponseValidationError(
                 "bad body", http_response(200), ValueError("x")))]
    for provider, exc in cases:
        failure = adapter(provider).translate(exc, REQ)
        assert isinstance(failure.error, BadReply) and not failure.retryable


@pytest.mark.parametrize("module", [openai, anthropic])
def test_every_exported_sdk_error_is_caught_or_known_not_raised(module):
    provider = module.__name__
    caught = adapter(provider).foreign_errors()
    exported = {name for name in dir(module) if inspect.isclass(getattr(module, name))
                and issubclass(getattr(module, name), BaseException)}
    uncaught = {name for name in exported if not issubclass(getattr(module, name), caught)}
    assert uncaught == NOT_RAISED[module]


def test_retry_after_forms():
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "3"}) == 3
    assert retry_after_seconds({"retry-after": "100000"}) == 120  # capped
    date = formatdate(time.time() + 30, usegmt=True)
    assert 27 <= retry_after_seconds({"retry-after": date}) <= 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds(None) is None


def test_backoff_grows_is_capped_and_jittered():
    assert retry_delay(0, 2.5) == 2.5  # the server's word wins
    delays = [retry_delay(attempt, None) for attempt in range(8)]
    assert 0.375 <= delays[0] <= 0.5 and 0.75 <= delays[1] <= 1.0
    assert all(6.0 <= d <= 8.0 for d in delays[4:])
