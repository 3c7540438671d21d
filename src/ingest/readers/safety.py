"""Checks made before a parser library touches a file: size, magic bytes, zip bombs, time."""

from __future__ import annotations

import os
import signal
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.inputs import open_regular

MAX_UNZIPPED_MB = 1024  # total declared uncompressed size of a DOCX/XLSX/PPTX
MAX_ZIP_MEMBERS = 20_000
SMALL_MEMBER_BYTES = 1 << 20  # members under 1 MB may compress well without being a bomb
PARSE_TIMEOUT_S = 120  # one file; guards against pathological PDFs

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_MAGIC = [
    (b"%PDF", "a PDF file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (OLE_MAGIC, "a legacy Office 97-2003 file"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
]
_OFFICE_NAMES = {"docx": "Word document (.docx)", "xlsx": "Excel workbook (.xlsx)",
                 "pptx": "PowerPoint presentation (.pptx)"}


def read_head(path: Path, size: int = 4096) -> bytes:
    """The first bytes of a file (raises InputFileError when it cannot be opened or is not a
    regular file)."""
    try:
        with os.fdopen(open_regular(path, str(path)), "rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror or exc}).") from None


def sniff(head: bytes) -> str | None:
    """What the magic bytes say the file is, e.g. 'a PNG image'; None when unknown (text)."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if b"%PDF" in head[:1024]:
        return "a PDF file"
    return None


def check_size(path: Path, settings: InputConfig, limited: bool = True) -> int:
    """The file size; refuses empty files, and (when `limited`: formats read whole) files over
    input.max_file_mb."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror or exc}).") from None
    if size == 0:
        raise InputFileError(str(path), "empty file (0 bytes): nothing to read.")
    limit = settings.max_file_mb * 1024 * 1024
    if limited and size > limit:
        raise InputFileError(str(path), f"is {size / 1048576:.1f} MB, over the input.max_file_mb "
                             f"limit of {settings.max_file_mb:g} MB for PDF, DOCX and PPTX files (read "
                             "whole): split the file or raise the limit in config.yaml.")
    return size


def check_signature(path: Path, fmt: str, head: bytes) -> None:
    """Refuses a file whose content does not match its extension (a PNG named .docx)."""
    seen = sniff(head)
    if fmt == "pdf":
        if seen != "a PDF file":
            raise InputFileError(str(path), f"is not a PDF file{_looks_like(seen)}: it may be "
                                 "mislabeled or damaged. Export it again as PDF.")
    elif fmt in _OFFICE_NAMES:
        _check_office_signature(path, fmt, head, seen)
    elif seen is not None:
        raise InputFileError(str(path), f"is not a text file (it looks like {seen}): rename it "
                             "with the right extension or export it as text.")


def _looks_like(seen: str | None) -> str:
    return f" (it looks like {seen})" if seen else ""


def _check_office_signature(path: Path, fmt: str, head: bytes, seen: str | None) -> None:
    if seen == "a ZIP archive":
        return
    if seen == "a legacy Office 97-2003 file":
        if _is_encrypted_ooxml(path):
            raise InputFileError(str(path), f"is a password-protected {_OFFICE_NAMES[fmt]}: open "
                                 "it, remove the password (File > Info > Protect) and save again.")
        raise InputFileError(str(path), f"is a legacy Office 97-2003 file with a .{fmt} name: open "
                             f"it and save it as {_OFFICE_NAMES[fmt]}.")
    raise InputFileError(str(path), f"is not a valid {_OFFICE_NAMES[fmt]}{_looks_like(seen)}: it "
                         "may be mislabeled or damaged.")


def _is_encrypted_ooxml(path: Path) -> bool:
    """True for an OLE container holding an EncryptedPackage stream (a password-protected file)."""
    with open(path, "rb") as fh:
        return ENCRYPTED_PACKAGE in fh.read(1 << 20)


def check_zip(path: Path, fmt: str, settings: InputConfig) -> list[str]:
    """Member names of an Office zip, after refusing zip bombs; reads only the central directory."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputFileError(str(path), f"is not a valid {_OFFICE_NAMES[fmt]}: the zip container "
                             f"is damaged or truncated ({exc}). Open and save it again.") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputFileError(str(path), f"holds {len(infos)} zip members (limit "
                             f"{MAX_ZIP_MEMBERS}): refused as a possible zip bomb.")
    _check_ratios(path, infos, settings.max_zip_ratio)
    names = [info.filename for info in infos]
    if "[Content_Types].xml" not in names:
        raise InputFileError(str(path), f"is not a valid {_OFFICE_NAMES[fmt]}: the zip has no "
                             "[Content_Types].xml. Open and save it again in Office.")
    return names


def _check_ratios(path: Path, infos: list[zipfile.ZipInfo], max_ratio: float) -> None:
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_MB * 1048576:
        raise InputFileError(str(path), f"would unpack to {total / 1048576:.0f} MB (limit "
                             f"{MAX_UNZIPPED_MB} MB): refused as a possible zip bomb.")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > SMALL_MEMBER_BYTES and ratio > max_ratio:
            raise InputFileError(str(path), f"member {info.filename} inflates {ratio:.0f}x (limit "
                                 f"input.max_zip_ratio = {max_ratio:g}): refused as a possible "
                                 "zip bomb.")


@contextmanager
def time_limit(path: Path, seconds: float = PARSE_TIMEOUT_S) -> Iterator[None]:
    """Abort parsing after `seconds` (main thread only; elsewhere readers check page deadlines).

    An outer timer (pytest-timeout, a caller's alarm) is restored afterwards, minus the time used."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def _expired(signum: int, frame: object) -> None:
        raise InputFileError(str(path), f"took longer than {seconds:g} s to read and was skipped: "
                             "it may be malformed. Try re-saving or exporting it again.")

    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    previous = signal.signal(signal.SIGALRM, _expired)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left) if outer_left else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 0.001))
