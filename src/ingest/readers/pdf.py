"""PDF with pdfplumber: reading order across columns, headers/footers dropped, tables as rows."""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.readers.common import DocBuilder, clean_text, row_text
from src.ingest.readers.pdf_layout import Box, paragraphs, reading_order, segments, upright_words
from src.ingest.readers.safety import PARSE_TIMEOUT_S
from src.models import Document

logging.getLogger("pdfminer").setLevel(logging.ERROR)  # per-object chatter about broken files

WORD_GAP_RATIO = 0.15  # a gap over 15% of the font size separates words (PDFs without spaces)
MARGIN = 0.09  # top/bottom share of the page where running headers and footers live
SCANNED_CHARS_PER_PAGE = 20
OVERPRINT_PT = 1.5  # a glyph repeated closer than this is one glyph drawn bold
_PAGE_NUMBER = re.compile(r"^(page\s*)?[-–—]?\s*\d{1,5}\s*[-–—]?(\s*(of|/)\s*\d{1,5})?$", re.I)
_DIGITS = re.compile(r"\d+")
# A running footer that ends in its page number: 'Acme Ltd - Annual Review  page 3'.
_PAGE_FOOTER = re.compile(r"(^|\s)(page|seite|página|pagina|p\.)\s*\d{1,5}(\s*(of|/|von|de)\s*\d{1,5})?$",
                          re.I)
HEADING_RATIO = 1.15  # a line this much larger than the body text is a heading
MAX_HEADING_LINES = 3
MAX_HEADING_CHARS = 200


def read(path: Path, settings: InputConfig, password: str | None = None) -> Document:
    """Read every page; refuses encrypted files without the password and image-only files."""
    builder = DocBuilder(path, "pdf")
    with _open(path, password) as pdf:
        pages, chars, images = _extract(pdf, path)
    furniture = _furniture(pages)
    kept_pages = [_drop_line_numbers([b for b in boxes if not _is_furniture(b, height, furniture)])
                  for boxes, height in pages]
    style = TypeScale(kept_pages)
    for number, kept in enumerate(kept_pages, 1):
        for region in reading_order(kept):
            for para in paragraphs(region):
                _emit(para, f"page {number}", builder, style)
    _check_scanned(path, builder, len(pages), chars, images)
    return builder.build(units=len(pages), unit_name="pages")


def _open(path: Path, password: str | None) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pdfplumber.open(path, password=password or "")
    except PdfminerException as exc:
        if exc.args and isinstance(exc.args[0], PDFPasswordIncorrect):
            if password:
                raise InputFileError(str(path), "the password given for this PDF is wrong.") from None
            raise InputFileError(str(path), "is password-protected: give its password (--password "
                                 "FILE=PASSWORD with ingest or generate) or save an unprotected "
                                 "copy.") from None
        raise


def _extract(pdf: Any, path: Path) -> tuple[list[tuple[list[Box], float]], int, int]:
    """Per page (boxes, height) in upright coordinates, plus total chars and images."""
    deadline = time.monotonic() + PARSE_TIMEOUT_S
    pages, chars, images = [], 0, 0
    for page in pdf.pages:
        if time.monotonic() > deadline:
            raise InputFileError(str(path), f"took longer than {PARSE_TIMEOUT_S} s to read: it "
                                 "may be malformed. Try exporting it to PDF again.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            boxes, count, height = _page_boxes(page)
        chars += count
        images += len(page.images)
        pages.append((boxes, height))
        page.close()
    return pages, chars, images


def _page_boxes(page: Any) -> tuple[list[Box], int, float]:
    """Text segments and tables of one page, and the page height in the reading frame."""
    dupes = _overprinted(page.chars)
    if len(dupes) > 0.1 * len(page.chars):
        page = page.filter(lambda obj: id(obj) not in dupes)
    count = len(page.chars)
    if not count:
        return [], 0, float(page.height)
    words = [_font_of(w) for w in page.extract_words(x_tolerance_ratio=WORD_GAP_RATIO,
                                                    return_chars=True)]
    turned = sum(1 for w in words if w.get("direction") in ("ttb", "btt")) > len(words) / 2
    tables = [] if turned else _tables(page)  # cell text of turned tables comes out scrambled
    boxes = upright_words([w for w in words if not _inside(w, tables)], page.width, page.height)
    return segments(boxes) + tables, count, float(page.width if turned else page.height)


def _font_of(word: dict[str, Any]) -> dict[str, Any]:
    """A word with the font name and size most of its characters have (its chars dropped).

    Asking extract_words to split on font changes would cut 'SUMMARY:' in two where only the
    colon changes font, so the word is kept whole and its style is the majority's."""
    chars = word.pop("chars", None) or []
    if chars:
        fonts = Counter((c.get("fontname", ""), round(float(c.get("size") or 0.0), 1)) for c in chars)
        word["fontname"], word["size"] = fonts.most_common(1)[0][0]
    return word


def _overprinted(chars: list[dict[str, Any]]) -> set[int]:
    """ids of glyphs drawn again on top of the same glyph (fake bold by overprinting).

    pdfplumber's dedupe_chars() costs several times the page parse and keeps pairs offset by a
    quarter point, so this sorts once and compares neighbours."""
    ordered = sorted(chars, key=lambda c: (c["text"], round(c["top"] / 3), c["x0"]))
    dupes: set[int] = set()
    kept = ordered[0] if ordered else None
    for char in ordered[1:]:
        assert kept is not None
        if (char["text"] == kept["text"] and abs(char["x0"] - kept["x0"]) < OVERPRINT_PT
                and abs(char["top"] - kept["top"]) < OVERPRINT_PT):
            dupes.add(id(char))
        else:
            kept = char
    return dupes


def _tables(page: Any) -> list[Box]:
    """Ruled tables as boxes with rows (only looked for when the page draws lines or rects)."""
    if len(page.lines) + len(page.rects) < 4:
        return []
    boxes = []
    for table in page.find_tables():
        rows = [[clean_text(cell or "") for cell in row] for row in table.extract()]
        rows = [r for r in rows if any(r)]
        if len(rows) > 1:
            x0, top, x1, bottom = table.bbox
            boxes.append(Box(x0, top, x1, bottom, rows=rows))
    return boxes


def _inside(word: dict[str, Any], tables: list[Box]) -> bool:
    x, y = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return any(t.x0 <= x <= t.x1 and t.top <= y <= t.bottom for t in tables)


def _key(text: str) -> str:
    return _DIGITS.sub("#", text).strip().lower()


def _in_margin(box: Box, height: float) -> bool:
    return box.bottom < height * MARGIN or height >= box.top > height * (1 - MARGIN)


def _furniture(pages: list[tuple[list[Box], float]]) -> set[str]:
    """Texts repeated in the top/bottom margin of many pages (running headers and footers)."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for boxes, height in pages:
        counts.update({_key(b.text) for b in boxes if b.rows is None and _in_margin(b, height)})
    needed = max(2, int(len(pages) * 0.3))
    return {key for key, n in counts.items() if n >= needed}


def _is_furniture(box: Box, height: float, furniture: set[str]) -> bool:
    if box.rows is not None or not _in_margin(box, height):
        return False
    text = box.text.strip()
    return _key(box.text) in furniture or bool(_PAGE_NUMBER.match(text) or _PAGE_FOOTER.search(text))


class TypeScale:
    """The body text's size and weight, so lines set apart by larger or bold type can be told.

    Lines in a size at least HEADING_RATIO times the body size become headings (the largest size
    level 1); bold lines are marked bold unless most of the document is bold."""

    def __init__(self, pages: list[list[Box]]):
        sizes: Counter[float] = Counter()
        bold = 0
        for boxes in pages:
            for box in boxes:
                if box.rows is None:
                    sizes[box.size] += len(box.text)
                    bold += len(box.text) if box.bold else 0
        total = sum(sizes.values())
        self.body = sizes.most_common(1)[0][0] if sizes else 0.0
        self.bold_body = bold > total / 2
        larger = sorted({s for s in sizes if self.body and s >= self.body * HEADING_RATIO},
                        reverse=True)
        self.levels = {size: min(n + 1, 6) for n, size in enumerate(larger)}

    def heading_level(self, para: Box) -> int:
        """The heading level of a short paragraph in larger type, else 0."""
        lines = para.text.count("\n") + 1
        if lines > MAX_HEADING_LINES or len(para.text) > MAX_HEADING_CHARS:
            return 0
        return self.levels.get(para.size, 0)


def _emit(para: Box, location: str, builder: DocBuilder, style: TypeScale) -> None:
    if para.rows is not None:
        for cells in para.rows:
            builder.add(row_text(cells), "table_row", location, cells=cells)
        return
    level = style.heading_level(para)
    if level:
        builder.add(para.text, "heading", location, level=level, bold=para.bold)
    else:
        builder.add(para.text, "paragraph", location, bold=para.bold and not style.bold_body)


def _drop_line_numbers(boxes: list[Box]) -> list[Box]:
    """Remove a margin column of bare line numbers (court transcripts number lines 1-25)."""
    numbers = [b for b in boxes if b.rows is None and b.text.strip().isdigit()
               and int(b.text) < 100]
    columns = Counter(round(b.x1 / 5) for b in numbers)
    if not columns or columns.most_common(1)[0][1] < 5:
        return boxes
    column = columns.most_common(1)[0][0]
    return [b for b in boxes if b not in numbers or round(b.x1 / 5) != column]


def _check_scanned(path: Path, builder: DocBuilder, pages: int, chars: int, images: int) -> None:
    if chars == 0 or not builder.blocks:
        reason = ("no extractable text — scanned/image-only PDF, OCR not supported. Run OCR "
                  "first (e.g. ocrmypdf) and try again.") if images else "no text found."
        raise InputFileError(str(path), reason)
    if chars < SCANNED_CHARS_PER_PAGE * pages and images:
        builder.warn(f"almost no extractable text ({chars} characters on {pages} page(s)): "
                     "scanned PDF? OCR is not supported; only the text layer was read.")
