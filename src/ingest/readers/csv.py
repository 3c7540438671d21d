"""CSV and TSV: encoding detected, delimiter and header sniffed, rows streamed as blocks."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from src.config import InputConfig
from src.ingest.readers.common import DocBuilder, cell_text
from src.ingest.readers.encoding import open_text
from src.models import Document

csv.field_size_limit(min(sys.maxsize, 1 << 28))  # long quoted answers are legitimate
DELIMITERS = ",;\t|"
SNIFF_CHARS = 1 << 16


def _sniff_delimiter(sample: str, path: Path) -> str:
    """The delimiter: tab for .tsv, else csv.Sniffer, else the most frequent candidate."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return max(DELIMITERS, key=first.count)


def looks_like_header(cells: list[str]) -> bool:
    """A header row: at least one filled cell, and no filled cell is a number."""
    filled = [c for c in cells if c]
    return bool(filled) and not any(_is_number(c) for c in filled)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("%", ""))
        return True
    except ValueError:
        return False


def _rows(path: Path, builder: DocBuilder) -> Iterator[tuple[int, list[str]]]:
    stream, _encoding, warning = open_text(path, newline="")
    if warning:
        builder.warn(warning)
    with stream:
        sample = stream.read(SNIFF_CHARS)
        stream.seek(0)
        if sample.startswith("\ufeff"):
            stream.read(1)
        reader = csv.reader(stream, delimiter=_sniff_delimiter(sample, path))
        for number, row in enumerate(reader, 1):
            yield number, [cell_text(c) for c in row]


def read(path: Path, settings: InputConfig, password: str | None = None) -> Iterator[Document]:
    """Read a .csv/.tsv file: a header table_row block, then one 'row' block per record.

    Streamed: a large file comes out in parts (each row keeps its header)."""
    builder = DocBuilder(path, "csv", streamable=True)
    header: list[str] | None = None
    ragged = 0
    try:
        for number, cells in _rows(path, builder):
            if not any(cells):
                continue
            if header is None:
                header = _start(builder, number, cells)
                continue
            if len(cells) != len(header):
                ragged += 1
                cells = cells + [""] * (len(header) - len(cells))
            builder.add_row(cells, "row", f"row {number}", header)
            if builder.full:
                yield builder.cut()
    except csv.Error as exc:
        builder.warn(f"stopped at a malformed line ({exc}); rows before it were read.")
    if ragged:
        builder.warn(f"{ragged} rows have a different number of fields than the header: short "
                     "rows were padded with empty cells, extra cells kept without a column name.")
    yield builder.build(empty_reason="no data: the file holds no rows.")


def _start(builder: DocBuilder, number: int, cells: list[str]) -> list[str]:
    """Emit the header row (or invent column names when the first row is data)."""
    if looks_like_header(cells):
        builder.add_row(cells, "table_row", f"row {number}")
        return cells
    header = [f"column {i + 1}" for i in range(len(cells))]
    builder.add_row(cells, "row", f"row {number}", header)
    return header
