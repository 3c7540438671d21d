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
