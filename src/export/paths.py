"""Output names that cannot escape output_datasets/, and files that appear whole or not at all."""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO

from src.config import output_root
from src.errors import UsageError

MAX_NAME_CHARS = 100
# Names Windows refuses for a file or folder, whatever the extension (CON, con.txt, LPT1, ...).
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}
_UNSAFE = re.compile(r"[^\w.-]+")  # \w is Unicode-aware: letters and digits of any script stay


def safe_output_name(name: str) -> str:
    """A folder/file name made of letters, digits, '.', '-' and '_' only; never a path."""
    text = unicodedata.normalize("NFKC", str(name))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # controls, bidi
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r"_{2,}", "_", text).strip("._-")[:MAX_NAME_CHARS].rstrip("._-")
    if not text:
        raise UsageError(f"The output name {name!r} has no usable characters. Choose a name made "
                         "of letters, digits, '-' or '_' (for example my_dataset).")
    if text.split(".")[0].lower() in _RESERVED:
        text = f"{text}_"
    return text


def dataset_dir(name: str, root: Path | None = None) -> Path:
    """output_datasets/<safe name>/ (or under `root`), checked to stay inside that folder."""
    root = (root or output_root()).resolve()
    folder = (root / safe_output_name(name)).resolve()
    if folder.parent != root:  # cannot happen after sanitising; kept as a last guard
        raise UsageError(f"The output name {name!r} would write outside {root}.")
    return folder


class StagedFiles:
    """Files written under temporary names in their final folder, renamed into place together.

    Use as a context manager: on success every file is os.replace'd over its target; on any error
    the temporary files are removed and the old files (if any) stay untouched.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def open(self, path: Path, newline: str | None = None) -> IO[str]:
        """A text file that will become `path` when the group is committed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
        handle = open(tmp, "x", encoding="utf-8", newline=newline)  # normal permissions (umask)
        self._staged.append((tmp, path))
        return handle

    def commit(self) -> None:
        for tmp, _ in self._staged:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        for tmp, path in self._staged:
            os.replace(tmp, path)
        self._staged.clear()

    def discard(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()
