"""Encoding detection for text files: BOMs, BOM-less UTF-16/32, UTF-8, then a guess."""

from __future__ import annotations

import codecs
import io
import os
from pathlib import Path
from typing import IO

from charset_normalizer import from_bytes

from src.ingest.inputs import open_regular

SAMPLE_BYTES = 1 << 16
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
]
# Guesses that are supersets of what charset_normalizer names (cp932 holds characters shift_jis lacks).
_SUPERSETS = {"shift_jis": "cp932", "ascii": "utf-8", "gb2312": "gb18030", "gbk": "gb18030",
              "euc_kr": "cp949", "iso8859_1": "cp1252", "latin_1": "cp1252"}


def detect_encoding(sample: bytes, complete: bool) -> tuple[str, str | None]:
    """(encoding, warning or None) for a file starting with `sample` (`complete`: whole file)."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name, None
    wide = _nul_pattern(sample)
    if wide:
        return wide, None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8", None
    except UnicodeDecodeError:
        pass
    guess = _guess(sample)
    return guess, (f"not UTF-8: decoded as {guess} (best guess); if the text looks wrong, save "
                   "the file as UTF-8.")


def _nul_pattern(sample: bytes) -> str | None:
    """UTF-16/32 without a BOM, recognised by where the NUL bytes fall."""
    head = sample[:4096]
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return None
    quarters = [head[i::4].count(0) / max(len(head[i::4]), 1) for i in range(4)]
    if min(quarters[1:]) > 0.9 and quarters[0] < 0.5:
        return "utf-32-le"
    if min(quarters[:3]) > 0.9 and quarters[3] < 0.5:
        return "utf-32-be"
    even, odd = head[0::2].count(0) / (len(head) / 2), head[1::2].count(0) / (len(head) / 2)
    if even > 0.6 and odd < 0.1:
        return "utf-16-be"
    if odd > 0.6 and even < 0.1:
        return "utf-16-le"
    return None


def _guess(sample: bytes) -> str:
    """charset_normalizer's guess, unless it is implausible; else a Latin fallback."""
    best = from_bytes(sample).best()
    if best is not None:
        name = codecs.lookup(best.encoding).name.replace("-", "_")
        name = _SUPERSETS.get(name, name)
        text = sample.decode(name, errors="replace")
        if not _implausible(text):
            return name
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _implausible(text: str) -> bool:
    """Half-width katakana with no other Japanese: the signature of Latin-1 read as cp932."""
    halfwidth = sum(1 for ch in text if "\uff61" <= ch <= "\uff9f")
    japanese = sum(1 for ch in text if "\u3040" <= ch <= "\u9fff")
    return halfwidth > 0 and japanese == 0


def open_text(path: Path, newline: str | None = None) -> tuple[IO[str], str, str | None]:
    """(text stream, encoding, warning): decodes lazily so large files stay out of memory."""
    raw = os.fdopen(open_regular(path, str(path)), "rb")  # a FIFO swapped in must not block
    sample = raw.read(SAMPLE_BYTES)
    complete = len(sample) < SAMPLE_BYTES
    encoding, warning = detect_encoding(sample, complete)
    raw.seek(0)
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=newline)
    return stream, encoding, warning
