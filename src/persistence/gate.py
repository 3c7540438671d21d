"""The one gate between the builder and SQLite: what is stored is storable, and a full disk says so.

Every statement goes through `GateConnection` (the connection class `Database` opens): each text
parameter is made valid UTF-8 (a lone surrogate from an undecodable file name or a model's split
emoji would fail the write) and has the secrets of the environment and the `user:password@` of
URLs masked (a key a model echoed into an answer). A full or failing disk becomes a StorageError
that says what to do, instead of a raw sqlite3 error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from src.errors import StorageError
from src.masking import mask_secrets, secret_values
from src.utils.text import has_surrogates, valid_unicode


def storable(value: Any, secrets: list[str]) -> Any:
    """A parameter as it may be stored: text valid UTF-8 (a lone surrogate from a model's reply
    or a file name would fail the write), with secrets masked (a key echoed in an answer)."""
    if isinstance(value, str):
        return mask_secrets(valid_unicode(value), secrets)
    return value


def _storable_row(params: Any, secrets: list[str]) -> Any:
    values = params.values() if isinstance(params, dict) else params
    text = "\x00".join(v for v in values if isinstance(v, str))
    if not (has_surrogates(text) or "://" in text or any(s in text for s in secrets)):
        return params  # the common case, checked once per row: nothing to change
    if isinstance(params, dict):
        return {k: storable(v, secrets) for k, v in params.items()}
    return tuple(storable(v, secrets) for v in params)


def disk_error(path: Path, exc: sqlite3.Error) -> StorageError | None:
    """A StorageError for a full or failing disk, or None for any other SQLite error."""
    text = str(exc)
    if "full" in text or "disk I/O" in text:
        return StorageError(f"Cannot write to the database {path}: {text}. Free some disk space "
                            "(or move it with DATASET_BUILDER_HOME) and run again; everything "
                            "saved before this point is kept, and paid answers are cached.")
    return None


class GateConnection(sqlite3.Connection):
    """The one gate to SQLite: every text parameter is made storable (see `storable`) and a full
    disk becomes a StorageError that says what to do."""

    path: Path = Path()

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, _storable_row(parameters, secret_values())
                                   if parameters else parameters)
        except sqlite3.OperationalError as exc:
            raise disk_error(self.path, exc) or exc from None

    def executemany(self, sql: str, seq: Iterable[Any], /) -> sqlite3.Cursor:
        secrets = secret_values()
        try:
            return super().executemany(sql, (_storable_row(p, secrets) for p in seq))
        except sqlite3.OperationalError as exc:
            raise disk_error(self.path, exc) or exc from None
