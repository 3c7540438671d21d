"""Stage-1 detectors of conversations that already exist in a document (see conversation_detector)."""

from __future__ import annotations

import bisect

from src.persistence.models import Document
from src.utils.detectors.labelled import detect_labelled
from src.utils.detectors.lines import Found, to_lines
from src.utils.detectors.sections import detect_admonitions, detect_headings, detect_standalone
from src.utils.detectors.tabular import detect_rows, detect_slides
from src.utils.detectors.transcript import detect_transcripts


def find_all(doc: Document) -> list[Found]:
    """Every pattern over one document; where two overlap, the more explicit pattern wins."""
    lines = to_lines(doc)
    text = doc.text
    candidates = (detect_rows(doc) + detect_slides(doc) + detect_admonitions(text, lines)
                  + detect_labelled(text, lines) + detect_transcripts(text, lines)
                  + detect_headings(text, lines) + detect_standalone(text, lines))
    kept: list[Found] = []  # sorted by span, never overlapping
    spans: list[tuple[int, int]] = []
    for item in candidates:
        at = bisect.bisect_left(spans, item.span)
        if (at and spans[at - 1][1] > item.span[0]) or (at < len(spans) and spans[at][0] < item.span[1]):
            continue
        spans.insert(at, item.span)
        kept.insert(at, item)
    return kept


__all__ = ["Found", "find_all"]
