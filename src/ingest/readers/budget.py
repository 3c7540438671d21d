"""A bound on the memory one Document may take, so that ingestion stays under 400 MB RSS.

A Document holds its text twice (each block's text and the joined `Document.text`) plus about
280 bytes of structure per block (Block, location, string headers, allocator slack), and Python
stores a whole string at the width of its widest character (1, 2 or 4 bytes). A 200 MB CSV of
short rows would need about 3 GB, so every block is charged here and the file is refused, naming
it and saying what to do, once the estimate passes the limit. Readers also `reserve` what a
parser library holds whole (openpyxl's shared strings, python-docx/pptx XML trees) before it
loads it. Measured (bench/bench_ingest.py and edge cases): files refused at the limit peak at
280-370 MB RSS, the largest accepted CSV/TXT/DOCX at 300-375 MB.
"""

from __future__ import annotations

from src.errors import InputFileError

MAX_DOCUMENT_MB = 280  # estimated bytes of one Document; with the ~80 MB interpreter: < 400 MB RSS
BLOCK_OVERHEAD = 280  # bytes per block besides its text: Block, location, headers, allocator slack
SEPARATOR_CHARS = 2  # "\n\n" between blocks in Document.text


def char_width(text: str) -> int:
    """Bytes per character Python uses for `text` (1 Latin-1, 2 BMP, 4 beyond, e.g. emoji)."""
    if text.isascii():
        return 1
    top = max(text)
    return 1 if top <= "\xff" else 2 if top <= "\uffff" else 4


class MemoryBudget:
    """Running estimate of a Document's memory; raises InputFileError past `limit_mb`."""

    def __init__(self, path: str, limit_mb: float | None = None, unit: str = "blocks"):
        self.path = path
        self.limit = (MAX_DOCUMENT_MB if limit_mb is None else limit_mb) * 1048576
        self.unit = unit
        self.block_bytes = 0  # Block objects and their own texts
        self.chars = 0  # characters of the joined Document.text
        self.width = 1  # widest character so far: the joined text's bytes per character

    @property
    def estimate(self) -> int:
        """Estimated bytes of the Document built so far."""
        return self.block_bytes + self.chars * self.width

    def charge(self, text: str, count: int, extra_bytes: int = 0) -> None:
        """Account for one more block of `text` (the `count`-th); refuse the file past the limit."""
        width = char_width(text)
        self.width = max(self.width, width)
        self.block_bytes += BLOCK_OVERHEAD + len(text) * width + extra_bytes
        self.chars += len(text) + SEPARATOR_CHARS
        if self.block_bytes + self.chars * self.width > self.limit:
            raise InputFileError(self.path, self._message(
                f"after {count:,} {self.unit} its text and structure already need"))

    def reserve(self, nbytes: float, what: str) -> None:
        """Account for memory a parser library holds besides the Document (e.g. a string table)."""
        self.block_bytes += int(nbytes)
        if self.estimate > self.limit:
            raise InputFileError(self.path, self._message(f"{what} alone would need"))

    def _message(self, needs: str) -> str:
        return (f"is too large to read at once: {needs} about {self.estimate / 1048576:.0f} MB "
                f"of memory, over the {self.limit / 1048576:.0f} MB one file may use. Split it "
                "into smaller files (for a table, fewer rows per file or sheet) and add them "
                "separately.")
