"""Shared by every reader: text cleaning and the builder that turns blocks into a Document."""

from __future__ import annotations

import re
from pathlib import Path

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.readers.budget import MemoryBudget
from src.ingest.readers.rows import ROW_SEPARATOR, RowBlock
from src.models import Block, Document

# C0 controls except \t and \n go; vertical tab and form feed are line breaks; DEL goes.
_CONTROL_MAP: dict[int, str | None] = {c: None for c in range(32) if c not in (9, 10)}
_CONTROL_MAP.update({0x0B: "\n", 0x0C: "\n", 0x0D: "\n", 0x7F: None, 0xFEFF: None})
_NEEDS_MAP = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufeff]")
_CRLF = re.compile(r"\r\n?")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")

BLOCK_SEPARATOR = "\n\n"


def clean_text(text: str) -> str:
    """Normalise line breaks and drop control characters (keeps \\n and \\t), then strip."""
    if _NEEDS_MAP.search(text):  # most text has none: skip the (slow) translate
        text = _CRLF.sub("\n", text).translate(_CONTROL_MAP)
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("\n", text)
    return text.strip()


def cell_text(value: object) -> str:
    """A spreadsheet/CSV value as the text a reader sees (1234.0 -> '1234', dates ISO)."""
    if isinstance(value, str):
        return clean_text(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return clean_text(str(value))


def row_text(cells: list[str]) -> str:
    """The text of a table row: its non-empty cells joined by ' | '."""
    return ROW_SEPARATOR.join(c for c in cells if c)


class DocBuilder:
    """Collects blocks in reading order and records each block's offset in the joined text.

    Refuses (InputFileError) a file whose Document would outgrow the memory budget. A reader of a
    format that streams (`streamable`) instead hands out a part (`cut()`) whenever `full`, so any
    file size is read in bounded memory."""

    def __init__(self, path: Path, fmt: str, streamable: bool = False):
        self.path = path
        self.format = fmt
        self.blocks: list[Block] = []
        self.warnings: list[str] = []
        self.streamable = streamable
        self.budget = self._new_budget()
        self._offset = 0
        self._part = 0
        self._part_offset = 0  # where the current part starts in the whole file's text
        self._count = 0  # blocks of earlier parts

    def _new_budget(self, reserved: int = 0) -> MemoryBudget:
        return MemoryBudget(str(self.path), unit="rows" if self.format in ("csv", "xlsx")
                            else "blocks", streamable=self.streamable, reserved=reserved)

    @property
    def full(self) -> bool:
        """True when a streaming reader should hand out the blocks so far as a part."""
        return self.streamable and self.budget.part_full

    def cut(self) -> Document:
        """The blocks so far as one part of the file; the builder goes on with the next part."""
        part = self._document(last=False)
        self._part_offset += len(part.text) + len(BLOCK_SEPARATOR)
        self._part += 1
        self._count += len(self.blocks)
        self.blocks, self._offset = [], 0
        self.budget = self._new_budget(self.budget.reserved)
        return part

    def add(self, text: str, kind: str, location: str, **fields: object) -> Block | None:
        """Append a block (cleaned); empty text is skipped. Returns the block or None."""
        text = clean_text(text)
        if not text:
            return None
        block = Block(text=text, kind=kind, location=location, start=self._next_start(),
                      **fields)  # type: ignore[arg-type]
        return self._append(block, text)

    def add_row(self, cells: list[str], kind: str, location: str,
                header: list[str] | None = None) -> Block | None:
        """Append a table row from already-clean cells (cell_text), its cells stored compactly."""
        text = row_text(cells).strip()
        if not text:
            return None
        block = RowBlock(text=text, kind=kind, location=location, start=self._next_start(),
                         cells=cells, header=header)
        return self._append(block, text, block.packed_bytes())

    def _next_start(self) -> int:
        return self._offset + len(BLOCK_SEPARATOR) if self.blocks else 0

    def _append(self, block: Block, text: str, extra_bytes: int = 0) -> Block:
        self.budget.charge(text, self._count + len(self.blocks) + 1, extra_bytes)
        self._offset = block.start + len(text)
        self.blocks.append(block)
        return block

    def warn(self, message: str) -> None:
        """Record a warning once."""
        if message not in self.warnings:
            self.warnings.append(message)

    def build(self, units: int = 0, unit_name: str = "", empty_reason: str = "no text found") -> Document:
        """The Document; raises InputFileError when no block holds any text."""
        if not self.blocks and not self._part:
            raise InputFileError(str(self.path), empty_reason)
        return self._document(units, unit_name)

    def _document(self, units: int = 0, unit_name: str = "", last: bool = True) -> Document:
        text = BLOCK_SEPARATOR.join([b.text for b in self.blocks])
        return Document(path=str(self.path), format=self.format, blocks=self.blocks, text=text,
                        units=units, unit_name=unit_name, warnings=list(self.warnings),
                        part=self._part, offset=self._part_offset, last_part=last)


def settings_or_default(settings: InputConfig | None) -> InputConfig:
    """The input settings, or the defaults when none are given."""
    return settings if settings is not None else InputConfig()
