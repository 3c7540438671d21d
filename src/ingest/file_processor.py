"""Turn the user's files into Documents: one entry point for every format, never stopping a batch.

`iter_documents(paths)` walks files and folders and yields, per file, a `Document` (ordered blocks
with locations, plus the joined text) or an `IngestFailure` naming the file and saying why.
Each format has a reader in `src.ingest.readers`; `readers.safety` checks size, magic bytes and zip
bombs before any parser library opens the file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from src.config import InputConfig
from src.errors import InputFileError, raised_by_our_code, reraise_bugs
from src.ingest.readers import csv, docx, pdf, pptx, safety, text, xlsx
from src.ingest.readers.common import settings_or_default
from src.models import Document, IngestFailure

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md", ".markdown": "md",
    ".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".pptx": "pptx",
}
LEGACY_EXTENSIONS = {".doc": ".docx", ".xls": ".xlsx", ".ppt": ".pptx", ".docm": ".docx",
                     ".xlsm": ".xlsx", ".pptm": ".pptx"}
_READERS: dict[str, Callable[[Path, InputConfig, str | None], Document]] = {
    "pdf": pdf.read, "docx": docx.read, "txt": text.read, "md": text.read, "csv": csv.read,
    "xlsx": xlsx.read, "pptx": pptx.read,
}


def find_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named in `paths`, folders walked recursively (sorted; hidden files/dirs skipped)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def detect_format(path: Path) -> str:
    """The format for a file's extension; InputFileError for legacy or unknown types."""
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_EXTENSIONS:
        return SUPPORTED_EXTENSIONS[suffix]
    if suffix in LEGACY_EXTENSIONS:
        modern = LEGACY_EXTENSIONS[suffix]
        raise InputFileError(str(path), f"unsupported format ({suffix}): open it in Office and "
                             f"save as {modern}.")
    supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    raise InputFileError(str(path), f"unsupported file type '{suffix or '(none)'}': supported "
                         f"types are {supported}.")


def read_document(path: str | Path, settings: InputConfig | None = None,
                  password: str | None = None) -> Document:
    """Read one file into a Document; raises InputFileError (naming the file) when it cannot."""
    path = Path(path)
    settings = settings_or_default(settings)
    if not path.exists():
        raise InputFileError(str(path), "does not exist: check the path.")
    if not path.is_file():
        raise InputFileError(str(path), "is not a regular file.")
    fmt = detect_format(path)
    safety.check_size(path, settings)
    safety.check_signature(path, fmt, safety.read_head(path))
    if fmt in ("docx", "xlsx", "pptx"):
        safety.check_zip(path, fmt, settings)
    return _parse(path, fmt, settings, password)


def _parse(path: Path, fmt: str, settings: InputConfig, password: str | None) -> Document:
    """Run the format's reader; library failures become one clear InputFileError."""
    try:
        with safety.time_limit(path):
            return _READERS[fmt](path, settings, password)
    except InputFileError:
        raise
    except RecursionError:
        raise InputFileError(str(path), f"is a malformed {fmt.upper()} (its objects refer to each "
                             "other endlessly): re-export it and try again.") from None
    except MemoryError:
        raise InputFileError(str(path), "needs more memory than available: split it.") from None
    except Exception as exc:  # a library's parser error means "this file cannot be read"
        if reraise_bugs() and raised_by_our_code(exc):
            raise  # a bug in our reader, not a bad file: tests must see it
        log.debug("reader failure for %s", path, exc_info=True)
        raise InputFileError(str(path), f"cannot be read as {fmt.upper()}: the file is corrupt, "
                             f"truncated or not really a .{path.suffix.lstrip('.').lower()} file "
                             f"({exc.__class__.__name__}: {str(exc)[:160]}). Open and save it "
                             "again, or export it anew.") from None


def iter_documents(paths: Iterable[str | Path], settings: InputConfig | None = None,
                   passwords: dict[str, str] | None = None) -> Iterator[Document | IngestFailure]:
    """One Document or IngestFailure per file under `paths`, in order; never raises for a file.

    Memory is bounded per file (readers.budget), so drop each Document (`del result` at the end
    of the loop body) before asking for the next: a loop variable otherwise keeps the previous
    one alive while the next file is read, and two large documents coexist."""
    passwords = passwords or {}
    for path in find_files(paths):
        password = passwords.get(str(path)) or passwords.get(path.name)
        try:
            yield read_document(path, settings, password)
        except InputFileError as exc:
            yield IngestFailure(path=str(path), reason=exc.reason)


def summarize_one(result: Document | IngestFailure,
                  count_tokens: Callable[[str], int] | None = None,
                  token_unit: str = "words") -> dict[str, Any]:
    """What the tool sees in one file: format, blocks, units, characters, tokens, warnings/error."""
    if isinstance(result, IngestFailure):
        return {"file": result.path, "ok": False, "error": result.reason}
    counter = count_tokens or (lambda s: len(s.split()))
    return {
        "file": result.path, "ok": True, "format": result.format, "blocks": len(result.blocks),
        "units": result.units, "unit_name": result.unit_name, "characters": len(result.text),
        "tokens": counter(result.text), "token_unit": token_unit if count_tokens else "words",
        "kinds": _kind_counts(result), "warnings": list(result.warnings),
    }


def _kind_counts(doc: Document) -> dict[str, int]:
    counts: dict[str, int] = {}
    for block in doc.blocks:
        counts[block.kind] = counts.get(block.kind, 0) + 1
    return counts


def summarize(results: Iterable[Document | IngestFailure],
              count_tokens: Callable[[str], int] | None = None,
              token_unit: str = "words") -> list[dict[str, Any]]:
    """summarize_one for each result (consumes an iterator without keeping the documents)."""
    summaries = []
    for result in results:
        summaries.append(summarize_one(result, count_tokens, token_unit))
        del result  # else the previous Document stays alive while the next file is read
    return summaries
