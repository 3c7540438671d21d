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
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from src.providers.base_provider import Request, retry_after_seconds, retry_delay
from src.providers.registry import adapter_class

REQ = Request("test-model", "system", "user", {"type": "object"})
HTTP_REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
EXPECTED = {400: ProviderError, 401: AuthError, 402: ProviderError, 403: AuthError,
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


def http_response(status: int, headers: dict | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers,
                           json={"error": {"message": "boom", "type": "x", "code": status}},
                           request=HTTP_REQUEST)


def sdk_status_error(provider: str, status: int, headers: dict | None = None) -> Exception:
    """The exception the provider's SDK itself raises for this HTTP status."""
    response = http_response(status, headers)
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
