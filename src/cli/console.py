"""Everything the tool prints to a person: colours, status lines, tables.

Results (what a command was asked for) go to stdout; status and errors go to stderr, so `--json`
output on stdout stays machine-readable. Colours are off when stderr is not a TTY or NO_COLOR is set.
"""

from __future__ import annotations

import os
import sys

from colorama import Fore, Style

from src.cli.text_table import text_table
from src.masking import mask_secrets
from src.utils.text import strip_source_tags


def _color_on(stream: object) -> bool:
    return not os.environ.get("NO_COLOR") and bool(getattr(stream, "isatty", lambda: False)())


def _emit(prefix: str, color: str, message: str) -> None:
    text = strip_source_tags(mask_secrets(f"{prefix}{message}"))
    if _color_on(sys.stderr):
        text = f"{color}{text}{Style.RESET_ALL}"
    print(text, file=sys.stderr, flush=True)


def info(message: str) -> None:
    _emit("", "", message)


def success(message: str) -> None:
    _emit("", Fore.GREEN, message)


def warn(message: str) -> None:
    _emit("Warning: ", Fore.YELLOW, message)


def error(message: str) -> None:
    _emit("Error: ", Fore.RED, message)


def heading(message: str) -> None:
    _emit("", Style.BRIGHT, message)


def out(text: str = "") -> None:
    """A result line on stdout."""
    print(mask_secrets(text), flush=True)


table = text_table  # rows as a plain aligned text table
