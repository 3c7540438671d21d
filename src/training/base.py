"""What every provider's trainer does, and the one translation of provider failures into our errors.

A trainer is one short class per provider (`openai_trainer.py`, ...): it says what it needs
(credential variable, where to get it), uploads one file, creates, finds, reads and cancels a job,
and maps the provider's status words onto ours. SDKs are imported inside the methods that use them:
each is heavy (boto3, google-cloud-storage, together) and only one provider is used per run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from src.config import Config
from src.errors import (
    AuthError,
    BuilderError,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from src.masking import mask_secrets, mask_url

T = TypeVar("T")
STATES = ("creating", "queued", "running", "cancelling", "succeeded", "failed", "cancelled")
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
MESSAGE_CHARS = 300  # a provider's message is cut here in our one-line errors


@dataclass(frozen=True)
class JobRequest:
    """One fine-tuning job as the provider is asked for it."""

    base_model: str  # the id the job API takes (catalog `job_model`)
    files: dict[str, str]  # role (train, validation) -> the provider's file reference
    epochs: int | None  # None: the provider's default
    suffix: str | None
    job_name: str  # our deterministic name where the provider lets us choose one
    display_name: str  # the dataset name, for the provider's console
    run_key: str


@dataclass(frozen=True)
class LocalFile:
    """One exported file to upload, pinned so it cannot change under us."""

    role: str  # train | validation
    path: Path
    filename: str  # the name the provider sees: <dataset>_<role>-<sha prefix>.jsonl
    sha256: str
    size: int
    examples: int


@dataclass
class JobInfo:
    """A job as the provider reports it."""

    job_id: str
    status: str  # the provider's own word
    state: str  # one of STATES
    fine_tuned_model: str | None = None
    error: str | None = None
    progress: str = ""  # e.g. "42%" when the provider says
    cost_usd: float | None = None  # the provider's own quote, when it gives one
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL


class Trainer:
    """Upload, create, find, read and cancel on one provider; subclasses fill in the SDK calls."""

    provider: ClassVar[str] = ""
    label: ClassVar[str] = ""
    key_env: ClassVar[str] = ""  # the credential variable ("" when a credential chain is used)
    key_help: ClassVar[str] = ""  # where to get that credential
    base_url_env: ClassVar[str] = ""
    default_epochs: ClassVar[int | None] = None  # what the provider uses when none is sent
    status_map: ClassVar[dict[str, str]] = {}

    def __init__(self, config: Config):
        self.config = config
        self.retries = config.system.max_retries
        self.timeout = config.system.timeout

    # ---------------------------------------------------------- provided by each trainer

    def check_ready(self) -> None:
        """Raise AuthError/ConfigError naming what is missing, before any upload."""
        self.api_key()

    def destination(self) -> str:
        """Where uploads go (base URL, account, bucket): an upload is reused only there."""
        return mask_url(self.base_url() or "default")

    def upload(self, file: LocalFile) -> str:
        """Send the file; returns the reference a job takes (file id, dataset name, URI)."""
        raise NotImplementedError

    def create_job(self, job: JobRequest) -> JobInfo:
        raise NotImplementedError

    def find_job(self, job: JobRequest, known: set[str]) -> JobInfo | None:
        """A job created for `job` by a run that was stopped before recording it (not in `known`)."""
        raise NotImplementedError

    def get_job(self, job_id: str) -> JobInfo:
        raise NotImplementedError

    def cancel_job(self, job_id: str) -> JobInfo:
        raise NotImplementedError

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        """The exception classes of this provider's SDK (and HTTP stack) that `failure` reads."""
        raise NotImplementedError

    def failure(self, exc: BaseException, doing: str) -> BuilderError:
        """Our error for one of `sdk_errors()`."""
        raise NotImplementedError

    # ---------------------------------------------------------- shared

    def api_key(self) -> str:
        key = os.environ.get(self.key_env, "").strip()
        if not key:
            raise AuthError(f"No {self.label} credential: set {self.key_env} in .env "
                            f"({self.key_help}), then run train again.")
        return key

    def base_url(self) -> str | None:
        """The server the provider's variable points at (None: the SDK's default)."""
        if not self.base_url_env:
            return None
        return os.environ.get(self.base_url_env) or None

    def state_of(self, status: str | None) -> str:
        """Our state for the provider's status word (an unknown word counts as still running)."""
        return self.status_map.get(str(status or ""), "running")

    def call(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one SDK call; the provider's failures come back as one of our errors."""
        try:
            return fn(*args, **kwargs)
        except self.sdk_errors() as exc:
            raise self.failure(exc, doing) from None

    def status_failure(self, status: int | None, message: str, doing: str,
                       code: str = "") -> BuilderError:
        """Quota, auth, not found, rejected, server trouble or no connection, each said once
        (`status` None: the provider was never reached)."""
        label, what = self.label, short(message) or "no message"
        detail = f"{status}{' ' + code if code else ''}: {what}" if status else what
        if status in (401, 403):
            where = (f"check {self.key_env} in .env ({self.key_help})" if self.key_env
                     else self.key_help)
            return AuthError(f"{label} refused the credentials while {doing} ({detail}): {where}.")
        if status == 429 or any(w in code.lower() for w in ("quota", "exhausted")):
            return RateLimited(f"{label} refused {doing}: quota or rate limit ({detail}). Wait, or "
                               "raise the quota or billing limit, then run train again (files "
                               "already uploaded are reused).")
        if status == 404:
            return ProviderError(f"{label} could not find what {doing} needs ({detail}). Check "
                                 f"--model (see `python -m src.main models --provider "
                                 f"{self.provider}`) and the account settings.")
        if status is not None and status < 500:
            return ProviderError(f"{label} rejected {doing} ({detail}).")
        if status is not None:
            return ProviderUnavailable(f"{label} failed while {doing} ({detail}). Run train "
                                       "again later: it resumes where it stopped.")
        env = f" or {self.base_url_env}" if self.base_url_env else ""
        return ProviderUnavailable(f"Could not reach {label} while {doing} ({what}). Check the "
                                   f"network{env}, then run train again: it resumes where it "
                                   "stopped.")


def word(value: Any) -> str:
    """A status as plain text (SDKs hand back strings or Enums)."""
    return str(getattr(value, "value", value) or "")


def short(text: Any) -> str:
    """A provider's message on one line, secrets masked, cut to MESSAGE_CHARS."""
    line = " ".join(str(text or "").split())
    line = mask_secrets(line)
    return line if len(line) <= MESSAGE_CHARS else line[:MESSAGE_CHARS - 1] + "…"


def require(value: str, key: str, what: str) -> str:
    """A config.yaml setting a provider needs; ConfigError naming the key when it is empty."""
    if not value.strip():
        raise ConfigError(f"{key} is not set in config.yaml: {what}")
    return value.strip()


def body_message(body: Any) -> str:
    """The human message inside an error body: {"error": {"message"}}, {"message"} or the text."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("msg") or inner)
        return str(inner)
    return str(body or "")


def body_code(body: Any) -> str:
    """The error code inside an error body ({"error": {"code"|"type"}}), or ""."""
    inner = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return ""
    code = inner.get("code") or inner.get("type") or inner.get("status") or ""
    return str(code) if isinstance(code, str) else ""


def status_parts(exc: BaseException) -> tuple[int | None, str, str]:
    """(HTTP status or None, message, code) of an SDK status error (Stainless SDKs, httpx)."""
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    body = getattr(exc, "body", None)
    message = body_message(body) if body else str(exc)
    return (int(status) if status else None), message, body_code(body)
