"""PPTX with python-pptx: per slide the title, text shapes (groups walked), tables, speaker notes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.readers.common import DocBuilder, clean_text, row_text
from src.ingest.readers.ooxml import open_package, reserve_parts
from src.models import Document

PARTS_FACTOR = 7.0  # python-pptx parses every part up front: ~6 bytes per byte of XML (measured)


def read(path: Path, settings: InputConfig, password: str | None = None) -> Document:
    """Read every slide: a 'title' block, 'body' blocks, table rows, then 'notes'."""
    builder = DocBuilder(path, "pptx")
    source = open_package(path)
    reserve_parts(source, "ppt/", PARTS_FACTOR, builder.budget, "parsing its XML")
    presentation = Presentation(source)  # type: ignore[arg-type]
    slides = list(presentation.slides)
    if not slides:
        raise InputFileError(str(path), "has no slides: nothing to read.")
    for number, slide in enumerate(slides, 1):
        _read_slide(slide, f"slide {number}", builder)
    return builder.build(units=len(slides), unit_name="slides",
                         empty_reason=f"no text found on its {len(slides)} slide(s) (text inside "
                                      "pictures is not read).")


def _read_slide(slide: Any, location: str, builder: DocBuilder) -> None:
    title = slide.shapes.title
    if title is not None and title.has_text_frame:
        builder.add(title.text_frame.text, "title", location)
    for shape in _shapes(slide.shapes):
        if title is not None and shape.shape_id == title.shape_id:
            continue
        _read_shape(shape, location, builder)
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        builder.add(slide.notes_slide.notes_text_frame.text, "notes", location)


def _shapes(shapes: Any) -> Iterator[Any]:
    """Shapes top to bottom, left to right; the members of group shapes in place of the group."""
    for shape in sorted(shapes, key=lambda s: (s.top or 0, s.left or 0)):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _read_shape(shape: Any, location: str, builder: DocBuilder) -> None:
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            cells = [clean_text(cell.text) for cell in row.cells if not cell.is_spanned]
            builder.add(row_text(cells), "table_row", location, cells=cells)
    elif shape.has_text_frame:
        builder.add(shape.text_frame.text, "body", location)
