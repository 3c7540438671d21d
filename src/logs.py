"""Logging to memory/logs/builder.log, with every secret in the environment masked."""

from __future__ import annotations

import logging
import logging.handlers

from src.config import home
from src.masking import mask_secrets


class _QuietFileHandler(logging.handlers.RotatingFileHandler):
    """A log line that cannot be written (a full disk) is dropped: the console already says what
    went wrong, and logging's own traceback on stderr would only bury that message."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


class _MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks secrets in the whole text (message and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def setup_logging() -> None:
    """Send our loggers to a rotating file; the console shows only what cli/console prints."""
    root = logging.getLogger("src")
    if root.handlers:
        return
    try:
        log_dir = home() / "memory" / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _QuietFileHandler(
            log_dir / "builder.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(_MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
