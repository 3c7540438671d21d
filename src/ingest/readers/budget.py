"""A bound on the memory one Document may take, so that ingestion stays under 400 MB RSS.

A Document holds its text twice (each block's text and the joined `Document.text`) plus about
280 bytes of structure per block (Block, location, string headers, allocator slack), and Python
stores a whole string at the width of its widest character (1, 2 or 4 bytes). A 200 MB CSV of
short rows would need about 3 GB, so every block is charged here and the file is refused, naming
it and saying what to do, once the estimate passes the limit. Readers also `reserve` what a
parser library holds whole (openpyxl's shared strings, python-docx/pptx XML trees) before it
loads it. Measured (bench/bench_ingest.py and edge cases): files refused at the limit peak at
280-370 MB RSS, the largest accepted DOCX at 300-375 MB.

CSV/TSV, TXT/MD and XLSX stream: their readers hand out a part of about PART_MB at a time (see
`DocBuilder.cut`), so a file of any size is read in bounded memory; only the formats that cannot
be read in parts (PDF, DOCX, PPTX) are refused for their size.
"""

from __future__ import annotations

from src.errors import InputFileError

# Said when a format that cannot be read in parts is refused for its size.
STREAM_HINT = ("PDF, DOCX and PPTX files are read whole (a DOCX or PPTX is one zipped XML "
               "document; CSV/TSV, TXT/MD and XLSX are read in parts of any size).")

MAX_DOCUMENT_MB = 280  # estimated bytes of one Document; with the ~80 MB interpreter: < 400 MB RSS
PART_MB = 24  # a streamed file (CSV/TSV, TXT/MD, XLSX) is handed out in parts of about this size
BLOCK_OVERHEAD = 280  # bytes per block besides its text: Block, location, headers, allocator slack
SEPARATOR_CHARS = 2  # "\n\n" between blocks in Document.text


def char_width(text: str) -> int:
    """Bytes per character Python uses for `text` (1 Latin-1, 2 BMP, 4 beyond, e.g. emoji)."""
    if text.isascii():
        return 1
    top = max(text)
    return 1 if top <= "\xff" else 2 if top <= "\uffff" else 4


class MemoryBudget:
    """Running estimate of a Document's memory; raises InputFileError past `limit_mb`.

    With `streamable`, the reader cuts a part whenever `part_full`, so only a single block
    (one huge cell or line) can still pass the limit. `reserved` (what a parser library holds
    for the whole file) is carried from part to part."""

    def __init__(self, path: str, limit_mb: float | None = None, unit: str = "blocks",
                 streamable: bool = False, reserved: int = 0):
        self.path = path
        self.streamable = streamable
        self.limit = (MAX_DOCUMENT_MB if limit_mb is None else limit_mb) * 1048576
        self.unit = unit
        self.reserved = reserved  # held by a parser library besides the Document
        self.block_bytes = 0  # Block objects and their own texts
        self.chars = 0  # characters of the joined Document.text
        self.width = 1  # widest character so far: the joined text's bytes per character

    @property
    def estimate(self) -> int:
        """Estimated bytes of the Document built so far, with what is reserved."""
        return self.reserved + self.block_bytes + self.chars * self.width

    @property
    def part_full(self) -> bool:
        """A streaming reader should hand out its blocks now (a part's worth, or near the limit)."""
        return self.estimate - self.reserved >= PART_MB * 1048576 or \
            self.estimate >= self.limit * 0.9

    def charge(self, text: str, count: int, extra_bytes: int = 0) -> None:
        """Account for one more block of `text` (the `count`-th); refuse the file past the limit."""
        width = char_width(text)
        self.width = max(self.width, width)
        self.block_bytes += BLOCK_OVERHEAD + len(text) * width + extra_bytes
        self.chars += len(text) + SEPARATOR_CHARS
        if self.estimate > self.limit:
            raise InputFileError(self.path, self._message(count))

    def reserve(self, nbytes: float, what: str) -> None:
        """Account for memory a parser library holds besides the Document (e.g. a string table)."""
        self.reserved += int(nbytes)
        if self.estimate > self.limit:
            hint = "" if self.streamable else f" {STREAM_HINT}"
            raise InputFileError(self.path, (
                f"is too large to read: {what} alone would need about {_mb(self.estimate)} MB "
                f"of memory (the parser holds it whole), over the {_mb(self.limit)} MB one file "
                f"may use.{hint} Split it into smaller files and add them separately."))

    def _message(self, count: int) -> str:
        needs = f"after {count:,} {self.unit} its text and structure already need about " \
                f"{_mb(self.estimate)} MB of memory"
        if self.streamable:  # parts are cut long before: one row or paragraph is this large
            return (f"holds a row or paragraph too large to read: {needs}, over the "
                    f"{_mb(self.limit)} MB one part may use. Split that cell or line.")
        return (f"is too large to read at once: {needs}, over the {_mb(self.limit)} MB one file "
                f"may use. {STREAM_HINT} Split it into smaller files and add them separately.")


def _mb(nbytes: float) -> str:
    return f"{nbytes / 1048576:.3g}"
