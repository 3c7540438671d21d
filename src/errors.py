"""Every error the builder raises on purpose. Messages say what to do next.

Only `src.main` (commands) and `src.cli.menu` catch `BuilderError` and show it; anything else that
escapes is a bug: logged with its traceback for users, and re-raised when `reraise_bugs()` (the
test suite sets DATASET_BUILDER_RERAISE=1, as simonw/llm re-raises under pytest), so a bug can
never pass a test as a polite message.
"""

import os

RERAISE_ENV = "DATASET_BUILDER_RERAISE"


def reraise_bugs() -> bool:
    """True when unexpected exceptions must surface as tracebacks (the test suite sets this)."""
    return os.environ.get(RERAISE_ENV, "") not in ("", "0")


def raised_by_our_code(exc: BaseException) -> bool:
    """True when the innermost frame of `exc` is in src/ (a bug of ours, not a library's verdict)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_SRC)


_SRC = os.path.dirname(os.path.abspath(__file__)) + os.sep


class BuilderError(Exception):
    """Base of the errors we raise on purpose; `exit_code` is what the command exits with."""

    exit_code = 1


class ConfigError(BuilderError):
    """config.yaml, a flag or an environment variable holds a value we cannot use."""

    exit_code = 2


class UsageError(BuilderError):
    """A command was called with arguments or input it cannot use."""

    exit_code = 2


class InputFileError(BuilderError):
    """An input document cannot be read; names the file and says why."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ProviderError(BuilderError):
    """Base for failures talking to an LLM provider."""


class AuthError(ProviderError):
    """The provider refused our credentials, or none are configured."""

    exit_code = 2


class BillingError(AuthError):
    """The provider refused for billing: the account has no credit or quota left (402, insufficient_quota)."""


class RateLimited(ProviderError):
    """The provider answered 429 after all retries."""


class ProviderUnavailable(ProviderError):
    """Timeouts, connection errors or 5xx after all retries."""


class BadReply(ProviderError):
    """The provider answered, but not with what we asked for (malformed or off-schema output)."""


class BudgetExhausted(ProviderError):
    """The next request could cross budget_usd, so it was not sent."""


class StorageError(BuilderError):
    """The SQLite database or an output file cannot be read or written."""


class DatasetNotFound(BuilderError):
    """No dataset with that name exists in the database."""


class BatchPending(ProviderError):
    """Batch mode: the reply to this request is not here yet (it is submitted, or will be, to the
    provider's Batch API). Not a failure: the work item waits for the next batch round."""
