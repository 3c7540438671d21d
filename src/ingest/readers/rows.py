"""Table rows that keep their cells compactly: large CSV/XLSX files hold one Block per row.

A list of cell strings costs about 90 bytes plus 50-75 bytes per cell, more than the row's text
itself. A `RowBlock` keeps no list: when its text is exactly its cells joined by ' | ' (the usual
case) the cells are split out of that text on access; otherwise they are kept as one string
joined by a control character that cleaned text never contains. `block.cells` therefore returns a
new list on every access (edit a copy and assign it back to change them).
"""

from __future__ import annotations

import sys

from src.models import Block

ROW_SEPARATOR = " | "
_UNIT = "\x1f"  # the ASCII unit separator; clean_text removes it from every cell


class RowBlock(Block):
    """A Block whose `cells` are stored packed (see the module docstring); otherwise a Block."""

    __slots__ = ("_packed",)

    @property
    def cells(self) -> list[str] | None:
        """The cell texts (a new list each time)."""
        packed = self._packed
        if isinstance(packed, str):
            if packed.startswith(_UNIT):
                return packed[1:].split(_UNIT)
            return packed.split(ROW_SEPARATOR)
        return None if packed is None else list(packed)

    @cells.setter
    def cells(self, value: list[str] | None) -> None:
        self._packed = pack_cells(value, self.text)

    def packed_bytes(self) -> int:
        """Memory the packed cells take beyond the row's text (0 when they are the text)."""
        packed = self._packed
        return 0 if packed is None or packed is self.text else sys.getsizeof(packed)


def pack_cells(cells: list[str] | None, text: str) -> str | tuple[str, ...] | None:
    """The compact form of a row's cells: `text` itself, a unit-joined string, or a tuple."""
    if cells is None:
        return None
    if all(cells) and not text.startswith(_UNIT):
        joined = ROW_SEPARATOR.join(cells)
        if joined == text and joined.count(ROW_SEPARATOR) == len(cells) - 1:
            return text  # the row text already spells its cells: store nothing more
    packed = _UNIT.join(cells)
    if cells and packed.count(_UNIT) == len(cells) - 1:
        return _UNIT + packed
    return tuple(cells)  # empty, or a cell holding the separator itself: keep them as they are
