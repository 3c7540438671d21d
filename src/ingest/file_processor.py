"""Turn the user's files into Documents: one entry point for every format, never stopping a batch.

`iter_documents(paths)` walks files and folders (`inputs.walk`: names relative to the input
folder, links kept inside it) and yields, per file, a `Document` (ordered blocks with locations,
plus the joined text; a large CSV/TSV, TXT/MD or XLSX as several parts of bounded size) or an
`IngestFailure` naming the file and saying why. Each format has a reader in `src.ingest.readers`;
`readers.safety` checks size, magic bytes and zip bombs before any parser library opens the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from src.config import InputConfig
from src.errors import InputFileError, raised_by_our_code, reraise_bugs
from src.ingest import inputs
from src.ingest.inputs import InputFile
from src.ingest.readers import csv, safety, text
from src.ingest.readers.common import BLOCK_SEPARATOR, settings_or_default
from src.models import Document, IngestFailure
from src.utils.text import printable_name

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md", ".markdown": "md",
    ".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".pptx": "pptx",
}
STREAMED = frozenset({"csv", "txt", "md", "xlsx"})  # read in parts: no size limit applies
LEGACY_EXTENSIONS = {".doc": ".docx", ".xls": ".xlsx", ".ppt": ".pptx", ".docm": ".docx",
                     ".xlsm": ".xlsx", ".pptm": ".pptx"}
_Reader = Callable[[Path, InputConfig, str | None], Iterator[Document]]


# The readers of PDF, DOCX, PPTX and XLSX import their libraries (pdfplumber, python-docx,
# python-pptx, openpyxl: ~35 MB together) only when a file of that format is read.
def _pdf(path: Path, settings: InputConfig, password: str | None) -> Iterator[Document]:
    from src.ingest.readers import pdf  # pdfplumber: only when a PDF is read (memory)
    yield pdf.read(path, settings, password)


def _docx(path: Path, settings: InputConfig, password: str | None) -> Iterator[Document]:
    from src.ingest.readers import docx  # python-docx: only when a DOCX is read (memory)
    yield docx.read(path, settings, password)


def _pptx(path: Path, settings: InputConfig, password: str | None) -> Iterator[Document]:
    from src.ingest.readers import pptx  # python-pptx: only when a PPTX is read (memory)
    yield pptx.read(path, settings, password)


def _xlsx(path: Path, settings: InputConfig, password: str | None) -> Iterator[Document]:
    from src.ingest.readers import xlsx  # openpyxl: only when an XLSX is read (memory)
    yield from xlsx.read(path, settings, password)


_READERS: dict[str, _Reader] = {
    "pdf": _pdf, "docx": _docx, "txt": text.read, "md": text.read, "csv": csv.read,
    "xlsx": _xlsx, "pptx": _pptx,
}


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


def read_parts(path: str | Path, settings: InputConfig | None = None,
               password: str | None = None, name: str | None = None) -> Iterator[Document]:
    """One file's Documents: a single one for most files, bounded parts for a large CSV/TSV,
    TXT/MD or XLSX (see `Document.part`). Raises InputFileError naming the file (by `name`, a
    printable form of the path, when given) when it cannot be read."""
    path = Path(path)
    name = name or printable_name(str(path))
    settings = settings_or_default(settings)
    try:
        yield from _checked_parts(path, name, settings, password)
    except InputFileError as exc:
        raise InputFileError(name, exc.reason) from None  # the printable name, never the raw path


def _checked_parts(path: Path, name: str, settings: InputConfig,
                   password: str | None) -> Iterator[Document]:
    if not path.exists():
        raise InputFileError(name, "does not exist: check the path.")
    if not path.is_file():
        raise InputFileError(name, "is not a regular file.")
    fmt = detect_format(path)
    safety.check_size(path, settings, limited=fmt not in STREAMED)
    safety.check_signature(path, fmt, safety.read_head(path))
    if fmt in ("docx", "xlsx", "pptx"):
        safety.check_zip(path, fmt, settings)
    parts = _READERS[fmt](path, settings, password)
    while True:
        part = _next_part(parts, path, name, fmt)  # the time limit covers the reader, not us
        if part is None:
            return
        part.path = name
        yield part


def read_document(path: str | Path, settings: InputConfig | None = None,
                  password: str | None = None) -> Document:
    """Read one file into a single Document (a large file's parts joined: the caller asked for
    the whole text); raises InputFileError (naming the file) when it cannot."""
    parts = list(read_parts(path, settings, password))
    if len(parts) == 1:
        return parts[0]
    whole = parts[-1]
    for part in parts[:-1]:
        for block in part.blocks:
            block.start += part.offset
    for block in whole.blocks:
        block.start += whole.offset
    whole.blocks = [b for part in parts for b in part.blocks]
    whole.text = BLOCK_SEPARATOR.join(p.text for p in parts if p.blocks)
    whole.part, whole.offset = 0, 0
    return whole


def _next_part(parts: Iterator[Document], path: Path, name: str, fmt: str) -> Document | None:
    """The reader's next part; library failures become one clear InputFileError."""
    try:
        with safety.time_limit(path):
            return next(parts, None)
    except InputFileError:
        raise
    except RecursionError:
        raise InputFileError(name, f"is a malformed {fmt.upper()} (its objects refer to each "
                             "other endlessly): re-export it and try again.") from None
    except MemoryError:
        raise InputFileError(name, "needs more memory than available: split it.") from None
    except Exception as exc:  # a library's parser error means "this file cannot be read"
        if reraise_bugs() and raised_by_our_code(exc):
            raise  # a bug in our reader, not a bad file: tests must see it
        log.debug("reader failure for %s", name, exc_info=True)
        raise InputFileError(name, f"cannot be read as {fmt.upper()}: the file is corrupt, "
                             f"truncated or not really a .{path.suffix.lstrip('.').lower()} file "
                             f"({exc.__class__.__name__}: {str(exc)[:160]}). Open and save it "
                             "again, or export it anew.") from None


def iter_documents(paths: Iterable[str | Path], settings: InputConfig | None = None,
                   passwords: dict[str, str] | None = None) -> Iterator[Document | IngestFailure]:
    """Per file under `paths`, in order: its Documents (one, or the parts of a large file), or an
    IngestFailure; never raises for a file. A folder's files are named relative to it.

    Memory is bounded per Document (readers.budget), so drop each one (`del result` at the end
    of the loop body) before asking for the next: a loop variable otherwise keeps the previous
    one alive while the next is read, and two large documents coexist."""
    settings = settings_or_default(settings)
    for found in inputs.walk(paths, settings):
        if isinstance(found, IngestFailure):
            yield found
        else:
            yield from read_input(found, settings, passwords or {})


def read_input(found: InputFile, settings: InputConfig,
               passwords: dict[str, str]) -> Iterator[Document | IngestFailure]:
    """The Documents of one walked file, or an IngestFailure (after the parts already read)."""
    done = 0
    try:
        for part in read_parts(found.path, settings, password_for(found, passwords), found.name):
            done += 1
            yield part
    except InputFileError as exc:
        reason = exc.reason if not done else (f"stopped after {done} part(s) of it were read "
                                              f"(those are used): {exc.reason}")
        yield IngestFailure(path=found.name, reason=reason)


def password_for(found: InputFile, passwords: dict[str, str]) -> str | None:
    """The --password given for this file: by its name, its path, or its bare file name."""
    for key, secret in passwords.items():
        if key in (found.name, found.path.name, str(found.path)) or \
                Path(key).expanduser().resolve() == found.path:
            return secret
    return None


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


def merge_summary(whole: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """The summary of a file read in parts: `whole` (its parts so far) plus the next `part`."""
    merged = dict(part)
    for key in ("blocks", "tokens"):
        merged[key] = whole[key] + part[key]
    merged["characters"] = whole["characters"] + len(BLOCK_SEPARATOR) + part["characters"]
    merged["kinds"] = {k: whole["kinds"].get(k, 0) + part["kinds"].get(k, 0)
                       for k in {**whole["kinds"], **part["kinds"]}}
    merged["parts"] = whole.get("parts", 1) + 1
    return merged


def iter_summaries(results: Iterable[Document | IngestFailure],
                   count_tokens: Callable[[str], int] | None = None,
                   token_unit: str = "words") -> Iterator[dict[str, Any]]:
    """One summary per file (the parts of a large file added up), as soon as the file is done;
    keeps no Document."""
    pending: dict[str, Any] | None = None
    for result in results:
        summary = summarize_one(result, count_tokens, token_unit)
        if pending is not None and isinstance(result, Document) and result.part:
            summary = merge_summary(pending, summary)
        elif pending is not None:
            yield pending
        if isinstance(result, Document) and not result.last_part:
            pending = summary  # more parts of this file follow
        else:
            pending = None
            yield summary
        del result  # else the previous Document stays alive while the next is read
    if pending is not None:
        yield pending


def summarize(results: Iterable[Document | IngestFailure],
              count_tokens: Callable[[str], int] | None = None,
              token_unit: str = "words") -> list[dict[str, Any]]:
    """One summary per file (consumes an iterator without keeping the documents)."""
    return list(iter_summaries(results, count_tokens, token_unit))
