"""Every error the builder raises on purpose. Messages say what to do next.

Only `src.main` (commands) and `src.cli.menu` catch `BuilderError` and show it; anything else that
escapes is a bug and is logged with its traceback.
"""


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


class NotBuiltYet(BuilderError):
    """A part of the tool that is not implemented yet."""

    exit_code = 3


class ProviderError(BuilderError):
    """Base for failures talking to an LLM provider."""


class AuthError(ProviderError):
    """The provider refused our credentials, or none are configured."""

    exit_code = 2


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
