"""Strict Open XML (ISO 29500 Strict) support: rewrite its namespaces to the Transitional ones.

python-docx, openpyxl and python-pptx only know the Transitional namespaces; a Strict file fails
(docx), or loads as an empty workbook (xlsx). The text content is the same in both flavours, so an
in-memory copy with the namespace URIs rewritten reads correctly.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import IO

from src.ingest.readers.budget import MemoryBudget

TREE_FACTOR = 5.0  # memory of a parsed lxml tree per byte of XML (measured 3.6 on a DOCX; margin)
_STRICT_NS = re.compile(rb"http://purl\.oclc\.org/ooxml/(\w+)/(\w+)")
_STRICT_MARK = b"purl.oclc.org/ooxml"


def is_strict(path: Path) -> bool:
    """True when the package's root relationships use Strict namespaces."""
    with zipfile.ZipFile(path) as zf:
        try:
            return _STRICT_MARK in zf.read("_rels/.rels")
        except KeyError:
            return False


def transitional_copy(path: Path) -> io.BytesIO:
    """An in-memory copy of a Strict package with Transitional namespace URIs."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith((".xml", ".rels")):
                data = _STRICT_NS.sub(rb"http://schemas.openxmlformats.org/\1/2006/\2", data)
            dst.writestr(info, data)
    out.seek(0)
    return out


def open_package(path: Path) -> Path | io.BytesIO:
    """The path itself, or a Transitional in-memory copy when the file is Strict OOXML."""
    return transitional_copy(path) if is_strict(path) else path


def reserve_parts(source: Path | IO[bytes], prefix: str, factor: float, budget: MemoryBudget,
                  what: str) -> None:
    """Charge `budget` for the package parts under `prefix` that a library will load whole.

    Reads only the zip directory, so a file too large to parse is refused before parsing."""
    with zipfile.ZipFile(source) as archive:
        size = sum(info.file_size for info in archive.infolist()
                   if info.filename.startswith(prefix) and info.filename.endswith(".xml"))
    if hasattr(source, "seek"):
        source.seek(0)
    budget.reserve(size * factor, what)
