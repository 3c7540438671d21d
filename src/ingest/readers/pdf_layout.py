"""Reading order for one PDF page: words -> line segments -> recursive XY-cut -> paragraphs.

pdfplumber's own `extract_text()` reads straight across the page, which interleaves the lines of
multi-column layouts. Here a line is cut into segments at wide gaps, and the page is split
recursively at whitespace: first at vertical gutters (columns), else at wide horizontal gaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median
from typing import Any

COLUMN_GAP = 1.0  # x gap, in line heights, that ends a segment (a column gutter)
SECTION_GAP = 0.9  # y gap, in line heights, that the XY-cut may split at
PARAGRAPH_GAP = 0.6  # y gap, in line heights, that starts a new paragraph
MAX_DEPTH = 40


@dataclass
class Box:
    """A line segment of text, or a whole table (rows set), in upright page coordinates."""

    x0: float
    top: float
    x1: float
    bottom: float
    text: str = ""
    rows: list[list[str]] | None = None
    extra: list[Box] = field(default_factory=list)
    bold: bool = False  # every word is set in a bold face
    size: float = 0.0  # font size of most of the text (points)


def upright_words(words: list[dict[str, Any]], width: float, height: float) -> list[Box]:
    """Words as boxes in the frame where their text reads left to right (rotated text turned)."""
    boxes = []
    for w in words:
        direction = w.get("direction", "ltr")
        if direction == "ttb":  # reads downwards, lines advance to the right
            box = Box(w["top"], w["x0"], w["bottom"], w["x1"], w["text"])
        elif direction == "btt":  # reads upwards, lines advance to the left
            box = Box(height - w["bottom"], width - w["x1"], height - w["top"], width - w["x0"],
                      w["text"])
        else:
            box = Box(w["x0"], w["top"], w["x1"], w["bottom"], w["text"])
        box.bold = bool(BOLD_FONT.search(str(w.get("fontname", ""))))
        box.size = round(float(w.get("size") or 0.0), 1)
        boxes.append(box)
    return boxes


BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|,b$|-b$", re.IGNORECASE)


def styled(box: Box, parts: list[Box]) -> Box:
    """Give box the style of its parts: bold when every word with letters is bold, and the size
    that most of the characters have."""
    lettered = [p for p in parts if any(ch.isalnum() for ch in p.text)] or parts
    box.bold = all(p.bold for p in lettered)
    weights: dict[float, int] = {}
    for part in lettered:
        weights[part.size] = weights.get(part.size, 0) + len(part.text)
    box.size = max(weights, key=lambda size: weights[size]) if weights else 0.0
    return box


def same_style(a: Box, b: Box) -> bool:
    """Two lines in the same weight and (within 10%) the same size: one paragraph may hold both."""
    return a.bold == b.bold and abs(a.size - b.size) <= 0.1 * max(a.size, b.size, 1.0)


def segments(words: list[Box]) -> list[Box]:
    """Words grouped into lines, lines cut at gaps wider than a column gutter."""
    if not words:
        return []
    size = median(w.bottom - w.top for w in words) or 1.0
    out: list[Box] = []
    for line in _lines(sorted(words, key=lambda w: (w.top, w.x0)), size * 0.5):
        line.sort(key=lambda w: w.x0)
        current = [line[0]]
        for word in line[1:]:
            if word.x0 - current[-1].x1 > size * COLUMN_GAP:
                out.append(_join(current))
                current = []
            current.append(word)
        out.append(_join(current))
    return out


def _lines(words: list[Box], tolerance: float) -> list[list[Box]]:
    lines: list[list[Box]] = []
    top = None
    for word in words:
        if top is None or word.top - top > tolerance:
            lines.append([])
            top = word.top
        lines[-1].append(word)
    return lines


def _join(words: list[Box]) -> Box:
    return styled(Box(min(w.x0 for w in words), min(w.top for w in words),
                      max(w.x1 for w in words), max(w.bottom for w in words),
                      logical_order(" ".join(w.text for w in words))), words)


_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_LTR_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:;/%+\-]*[A-Za-z0-9]|[A-Za-z0-9]")


def logical_order(text: str) -> str:
    """Right-to-left lines (Arabic, Hebrew) come out of PDFs in visual order; restore reading
    order by reversing the line and then each embedded left-to-right run back."""
    rtl = len(_RTL.findall(text))
    if rtl == 0 or rtl < sum(1 for ch in text if ch.isalpha()) / 2:
        return text
    return _LTR_RUN.sub(lambda m: m.group(0)[::-1], text[::-1])


def reading_order(boxes: list[Box]) -> list[list[Box]]:
    """The page's regions (columns and bands) in reading order, each a list of boxes."""
    if not boxes:
        return []
    text = [b for b in boxes if b.rows is None]
    size = median(b.bottom - b.top for b in text) if text else 10.0
    regions: list[list[Box]] = []
    _cut(boxes, size, regions, 0)
    return regions


def _cut(boxes: list[Box], size: float, out: list[list[Box]], depth: int) -> None:
    if depth < MAX_DEPTH and len(boxes) > 1:
        parts = _split(boxes, vertical=True, min_gap=size * 0.3)
        if len(parts) == 1:
            parts = _split(boxes, vertical=False, min_gap=size * SECTION_GAP)
        if len(parts) > 1:
            for part in parts:
                _cut(part, size, out, depth + 1)
            return
    out.append(sorted(boxes, key=lambda b: (round(b.top, 1), b.x0)))


def _split(boxes: list[Box], vertical: bool, min_gap: float) -> list[list[Box]]:
    """Groups separated by empty gutters (vertical) or bands (horizontal) of at least min_gap."""
    def start(b: Box) -> float:
        return b.x0 if vertical else b.top

    def end(b: Box) -> float:
        return b.x1 if vertical else b.bottom

    ordered = sorted(boxes, key=start)
    groups = [[ordered[0]]]
    reach = end(ordered[0])
    for box in ordered[1:]:
        if start(box) - reach >= min_gap:
            groups.append([])
        groups[-1].append(box)
        reach = max(reach, end(box))
    return groups


def paragraphs(region: list[Box]) -> list[Box]:
    """Text lines of a region merged into paragraphs; tables pass through unchanged."""
    out: list[Box] = []
    lines = _rows_of(region)
    if not lines:
        return out
    size = median(b.bottom - b.top for b in lines if b.rows is None) if any(
        b.rows is None for b in lines) else 10.0
    left = min(b.x0 for b in lines)
    gaps = [b.top - a.bottom for a, b in zip(lines, lines[1:]) if b.top > a.bottom]
    limit = max(size * PARAGRAPH_GAP, median(gaps) * 1.4 if gaps else 0.0)
    for line in lines:
        prev = out[-1] if out else None
        if (line.rows is None and prev is not None and prev.rows is None
                and line.top - prev.bottom < limit and same_style(prev.extra[-1], line)
                and not (line.x0 - left > size and prev.extra[-1].x0 - left <= size)):
            prev.text += "\n" + line.text
            prev.bottom, prev.x1 = max(prev.bottom, line.bottom), max(prev.x1, line.x1)
            prev.extra.append(line)
        else:
            out.append(Box(line.x0, line.top, line.x1, line.bottom, line.text, line.rows, [line],
                           line.bold, line.size))
    return out


def _rows_of(region: list[Box]) -> list[Box]:
    """Segments on the same line of a region joined left to right."""
    rows: list[Box] = []
    for box in region:
        last = rows[-1] if rows else None
        if (last is not None and box.rows is None and last.rows is None
                and abs(box.top - last.top) < (last.bottom - last.top) * 0.5):
            rows[-1] = styled(Box(last.x0, min(last.top, box.top), max(last.x1, box.x1),
                                  max(last.bottom, box.bottom), f"{last.text} {box.text}"),
                              [last, box])
        else:
            rows.append(box)
    return rows
