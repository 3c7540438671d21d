"""DOCX with python-docx: headings, list items, bold, tables (merged cells once), text boxes,
footnotes and endnotes. Headers and footers are left out on purpose (page furniture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from src.config import InputConfig
from src.ingest.readers.common import DocBuilder, clean_text, row_text
from src.ingest.readers.ooxml import TREE_FACTOR, open_package, reserve_parts
from src.models import Document

# Each text box is stored twice (DrawingML and a VML fallback); read the first copy only.
_TEXT_BOXES = ".//*[local-name()='txbxContent'][not(ancestor::*[local-name()='Fallback'])]"
_NOTE_SKIP = {"separator", "continuationSeparator", "continuationNotice"}


class _Reader:
    """Walks the body in document order and feeds blocks to the builder."""

    def __init__(self, document: Any, builder: DocBuilder):
        self.document = document
        self.builder = builder
        self.paragraphs = 0
        self.tables = 0
        self.styles = _paragraph_styles(document)

    def body(self, element: Any) -> None:
        for child in element.iterchildren():
            if child.tag == qn("w:p"):
                self.paragraph(child)
            elif child.tag == qn("w:tbl"):
                self.table(child)
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self.body(content)

    def paragraph(self, p: Any, location: str | None = None) -> None:
        self.paragraphs += 1
        para = Paragraph(p, self.document)
        where = location or f"paragraph {self.paragraphs}"
        name, style_bold = self.styles.get(p.style or "", self.styles.get("", ("", False)))
        kind, level = _kind(para, name)
        self.builder.add(para.text, kind, where, level=level, bold=_all_bold(para, style_bold))
        for box in p.xpath(_TEXT_BOXES):
            for inner in box.iter(qn("w:p")):
                self.builder.add(Paragraph(inner, self.document).text, "paragraph",
                                 f"text box near paragraph {self.paragraphs}")

    def table(self, tbl: Any) -> None:
        self.tables += 1
        for number, tr in enumerate(tbl.iter(qn("w:tr")), 1):
            if tr.getparent() is not tbl:
                continue  # rows of a nested table are part of their cell's text
            cells = [_cell_text(tc, self.document) for tc in tr.iterchildren(qn("w:tc"))]
            self.builder.add(row_text(cells), "table_row", f"table {self.tables} row {number}",
                             cells=cells)


def _paragraph_styles(document: Any) -> dict[str, tuple[str, bool]]:
    """{style id: (name, bold)}, "" for the default style; looked up once (python-docx's per-
    paragraph lookup scans every style and dominated the time on long documents)."""
    try:
        styles = {s.style_id: (s.name or "", bool(s.font.bold)) for s in document.styles
                  if s.type == WD_STYLE_TYPE.PARAGRAPH}
        default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    except (KeyError, ValueError, AttributeError):
        return {}  # minimal packages without a styles part
    if default is not None:
        styles[""] = (default.name or "", bool(default.font.bold))
    return styles


def _kind(para: Paragraph, name: str) -> tuple[str, int]:
    """('heading', level) for Title/Heading N styles, ('list_item', ilvl) for numbered paragraphs."""
    if name == "Title":
        return "heading", 1
    if name.startswith("Heading ") and name[8:].isdigit():
        return "heading", int(name[8:])
    num_pr = para._p.pPr.numPr if para._p.pPr is not None else None
    if num_pr is not None or name.startswith("List"):
        level = getattr(num_pr, "ilvl", None)  # python-docx types numPr loosely
        ilvl = level.val if level is not None else 0
        return "list_item", int(ilvl)
    return "paragraph", 0


def _all_bold(para: Paragraph, style_bold: bool) -> bool:
    """True when every run holding text is bold (directly or through the paragraph style)."""
    runs = [r for r in para.runs if r.text.strip()]
    return bool(runs) and all(r.bold or (r.bold is None and style_bold) for r in runs)


def _cell_text(tc: Any, document: Any) -> str:
    """A cell's text once: cells continuing a vertical merge are empty; nested tables included."""
    v_merge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
    if v_merge is not None and v_merge.get(qn("w:val")) != "restart":
        return ""
    return clean_text("\n".join(Paragraph(p, document).text for p in tc.iter(qn("w:p"))))


def _notes(document: Any) -> Iterator[tuple[str, str]]:
    """(location, text) of every real footnote and endnote."""
    for rel in document.part.rels.values():
        if rel.is_external or rel.reltype not in (RT.FOOTNOTES, RT.ENDNOTES):
            continue
        root = parse_xml(rel.target_part.blob)
        label = "footnote" if rel.reltype == RT.FOOTNOTES else "endnote"
        for note in root.iterchildren(qn("w:footnote"), qn("w:endnote")):
            if note.get(qn("w:type")) in _NOTE_SKIP:
                continue
            text = "\n".join(Paragraph(p, document).text for p in note.iter(qn("w:p")))
            yield f"{label} {note.get(qn('w:id'))}", text


def read(path: Path, settings: InputConfig, password: str | None = None) -> Document:
    """Read the body of a Word document in order, then its footnotes and endnotes."""
    builder = DocBuilder(path, "docx")
    source = open_package(path)
    reserve_parts(source, "word/", TREE_FACTOR, builder.budget, "parsing its XML")
    document = docx.Document(source)  # type: ignore[arg-type]
    reader = _Reader(document, builder)
    reader.body(document.element.body)
    for location, text in _notes(document):
        builder.add(text, "footnote", location)
    return builder.build(empty_reason="no text found (the document body is empty).")
