"""XLSX with openpyxl in read-only mode: every sheet, tables split on blank rows, headers found."""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.cell import range_boundaries

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.readers.common import DocBuilder, cell_text
from src.ingest.readers.csv import looks_like_header
from src.ingest.readers.ooxml import open_package, reserve_parts
from src.models import Document

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')
_READ_BYTES = 1 << 20
SHARED_STRINGS_FACTOR = 2.5  # memory of openpyxl's string list per byte of its XML (measured)


def read(path: Path, settings: InputConfig, password: str | None = None) -> Iterator[Document]:
    """Read every (visible, unless include_hidden_sheets) sheet of a workbook, in parts when large.

    openpyxl's read-only mode streams the rows; its shared-strings table is held whole."""
    builder = DocBuilder(path, "xlsx", streamable=True)
    source = open_package(path)
    reserve_parts(source, "xl/sharedStrings", SHARED_STRINGS_FACTOR, builder.budget,
                  "its shared-strings table")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about harmless extensions
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    try:
        sheets = _sheets(workbook, settings, builder)
        with zipfile.ZipFile(source) as archive:
            for sheet in sheets:
                yield from _read_sheet(sheet, _merges(archive, sheet), builder)
    finally:
        workbook.close()
    if not workbook.sheetnames:
        raise InputFileError(str(path), "has no worksheets: it may be damaged; open and save it "
                             "again in Excel.")
    yield builder.build(units=len(sheets), unit_name="sheets",
                        empty_reason=f"no text found in its {len(sheets)} sheet(s).")


def _sheets(workbook: Any, settings: InputConfig, builder: DocBuilder) -> list[Any]:
    sheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
    hidden = [ws.title for ws in sheets if ws.sheet_state != "visible"]
    if hidden and not settings.include_hidden_sheets:
        builder.warn(f"skipped hidden sheet(s) {', '.join(hidden)} (set "
                     "input.include_hidden_sheets: true to read them).")
        sheets = [ws for ws in sheets if ws.sheet_state == "visible"]
    return sheets


def _merges(archive: zipfile.ZipFile, sheet: Any) -> list[tuple[int, int, int, int]]:
    """Merged ranges (min_col, min_row, max_col, max_row), scanned from the sheet XML.

    openpyxl's read-only sheets do not expose merged cells, so their <mergeCell> tags are found
    by streaming the sheet part once more."""
    found: list[tuple[int, int, int, int]] = []
    with archive.open(sheet._worksheet_path) as member:
        tail = b""
        while chunk := member.read(_READ_BYTES):
            data = tail + chunk
            found += [range_boundaries(m.decode()) for m in _MERGE.findall(data)]  # type: ignore[misc]
            tail = data[-200:]
            if _MERGE.search(tail):
                tail = tail[tail.rfind(b"<"):]
    return sorted(set(found))


def _fill_down(rows: Iterator[tuple[int, list[str]]],
               merges: list[tuple[int, int, int, int]]) -> Iterator[tuple[int, list[str]]]:
    """Repeat a vertically merged cell's value on every row it spans (horizontal spans stay once)."""
    vertical = [m for m in merges if m[3] > m[1]]
    carried: dict[tuple[int, int], str] = {}
    for number, cells in rows:
        for min_col, min_row, _max_col, max_row in vertical:
            if number == min_row and min_col <= len(cells):
                carried[(min_col, max_row)] = cells[min_col - 1]
            elif min_row < number <= max_row and (min_col, max_row) in carried:
                cells += [""] * (min_col - len(cells))
                cells[min_col - 1] = carried[(min_col, max_row)]
        yield number, cells


def _rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) for the non-empty rows; bounded by the data, not the dimension."""
    sheet.reset_dimensions()
    for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        if any(v is not None for v in values):
            cells = [cell_text(v) for v in values]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                yield number, cells


class _Table:
    """The table a row belongs to: its header and the columns the header covers."""

    def __init__(self) -> None:
        self.header: list[str] | None = None
        self.last_row = -1
        self.span = (0, 0)

    def belongs(self, number: int, cells: list[str]) -> bool:
        """Same table: the next row, or after blank rows a data row under the header's columns."""
        if self.header is None:
            return number == self.last_row + 1
        filled = [i for i, c in enumerate(cells) if c]
        if not any(self.span[0] <= i <= self.span[1] for i in filled):
            return False
        return number == self.last_row + 1 or not _is_header(cells)


def _is_header(cells: list[str]) -> bool:
    return sum(1 for c in cells if c) >= 2 and looks_like_header(cells)


def _read_sheet(sheet: Any, merges: list[tuple[int, int, int, int]],
                builder: DocBuilder) -> Iterator[Document]:
    table = _Table()
    for number, cells in _fill_down(_rows(sheet), merges):
        if not table.belongs(number, cells):
            table = _Table()
        table.last_row = number
        location = f"sheet {sheet.title} row {number}"
        if table.header is None:
            if _is_header(cells):
                filled = [i for i, c in enumerate(cells) if c]
                table.header, table.span = cells, (filled[0], filled[-1])
            builder.add_row(cells, "table_row", location)
        else:
            builder.add_row(cells, "row", location, table.header)
        if builder.full:
            yield builder.cut()
