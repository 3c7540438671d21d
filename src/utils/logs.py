"""Logging to memory/logs/builder.log, with every secret in the environment masked."""

from __future__ import annotations

import logging
import logging.handlers

from src.config import home, secret_values

MASK = "***"


def mask_secrets(text: str) -> str:
    """Replace every API key found in the environment by ***."""
    for secret in secret_values():
        text = text.replace(secret, MASK)
    return text


class _MaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secrets(record.getMessage())
        record.args = ()
        if record.exc_info:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_secrets(formatted)
            record.exc_info = None
        return True


def setup_logging() -> None:
    """Send our loggers to a rotating file; the console shows only what cli/console prints."""
    root = logging.getLogger("src")
    if root.handlers:
        return
    try:
        log_dir = home() / "memory" / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_dir / "builder.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_MaskFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
