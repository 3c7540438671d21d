"""Small files written whole or not at all, never through a symbolic link.

A file is written to a fresh temporary name in its own folder (created exclusively, refusing a link),
flushed to disk, then renamed over the target. A rename replaces a link at the target instead of
writing where it points, so a planted link cannot redirect the write; a kill leaves the old file
(or none) and at most a temporary file that `remove_temporaries` clears later.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from src.errors import StorageError

TMP_SUFFIX = ".part"
_TMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")  # what tempfile.mkstemp makes below


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (temporary file + fsync + rename); returns `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise StorageError(f"Cannot write {path} ({exc.strerror or exc}). Check that the folder "
                           "is writable and the disk has free space.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600: keep the replaced file's mode, else an ordinary file's
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.is_file() else 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StorageError(f"Cannot write {path} ({exc.strerror or exc}). Check free disk space "
                           "and permissions; the previous file, if any, is unchanged.") from None
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """UTF-8 text written atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: Any) -> Path:
    """Pretty JSON (UTF-8, not ASCII-escaped) written atomically."""
    return write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files an interrupted atomic write left in `folder`; returns them."""
    if not folder.is_dir():
        return []
    removed = [p for p in folder.iterdir() if _TMP_NAME.match(p.name) and not p.is_dir()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
