"""Identify mode, stage 1: conversations that already exist in a document, extracted verbatim.

The patterns live in the other modules of `src/detect/` (labelled Q:/A: pairs, question headings
and admonitions, bold/numbered questions, speaker transcripts, question/answer columns,
question-titled slides). Each
reports character spans of `Document.text`; this module cuts the turns out of those spans, changing
whitespace only, and adds provenance, context, keywords and a question-type guess.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

from src.detect.faq import detect_faq
from src.detect.labelled import detect_labelled
from src.detect.lines import Found, clean, to_lines
from src.detect.mail import detect_mail
from src.detect.sections import detect_admonitions, detect_headings, detect_standalone
from src.detect.tabular import detect_rows, detect_slides
from src.detect.transcript import detect_transcripts
from src.models import Document, Example, Turn
from src.utils.text import STOPWORDS

QUESTION_TYPES = (  # first match wins; checked against the lower-cased question
    ("cost", r"\bhow much\b|\b(cost|costs|price|prices|fee|fees|pay|charge|charges|tuition)\b"),
    ("comparison", r"\b(difference|differ|compare|compared|versus|vs\.?|better|prefer)\b"),
    ("why", r"^\W*why\b|\bwhy\b"),
    ("how-to", r"\bhow (do|can|should|would|to|does|did)\b"),
    ("when", r"^\W*when\b|\bwhat time\b|\b(deadline|date|dates|how long)\b"),
    ("where", r"^\W*where\b"),
    ("who", r"^\W*(who|whom|whose)\b"),
    ("numbers", r"^\W*how (many|often|far|old|big)\b"),
    ("yes/no", r"^\W*(is|are|can|could|do|does|did|will|would|should|shall|may|has|have|am)\b"),
    ("what", r"^\W*(what|which)\b"),
)


def keywords(text: str, k: int = 5) -> list[str]:
    """The k most frequent content words of a text (lower-cased; ties keep first appearance)."""
    words = [w.strip("'-") for w in re.findall(r"[^\W\d_][\w'’-]*", text.lower())]
    counts = Counter(w for w in words if len(w) > 2 and w not in STOPWORDS)
    first = {w: n for n, w in reversed(list(enumerate(words)))}
    return sorted(counts, key=lambda w: (-counts[w], first[w]))[:k]


def question_type(question: str) -> str:
    """A cheap guess at the kind of question: cost, why, how-to, when, yes/no, what, ... or other."""
    lowered = question.strip().lower()
    for name, pattern in QUESTION_TYPES:
        if re.search(pattern, lowered):
            return name
    return "other"


# '[1]: https://example.com "Title"': a Markdown reference-link definition, not part of an answer.
LINK_DEFINITION = re.compile(
    r"^[ \t]*\[(?!\^)[^\]\n]+\]:[ \t]*<?(?:[a-z][\w+.-]*://|mailto:|/|\./|\.\./|#)\S*"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$\n?", re.MULTILINE | re.IGNORECASE)


def outdent(text: str, columns: int) -> str:
    """Remove up to `columns` leading spaces from every line (the body indent of a '???' block)."""
    if columns <= 0:
        return text
    return re.sub(rf"(?m)^ {{1,{columns}}}", "", text)


def turn_text(text: str, segments: list[tuple[int, int]], indent: int = 0) -> str:
    """A turn's words: its source segments with whitespace normalised (and a block's indent
    removed), joined by a line break; reference-link definitions are left out."""
    parts = (clean(LINK_DEFINITION.sub("", outdent(text[start:end], indent)))
             for start, end in segments)
    return "\n".join(part for part in parts if part)


def _context(doc: Document, found: Found) -> str:
    start, end = found.context or found.span
    body = doc.text[start:end].strip()
    if found.title and found.title not in body:
        return f"{found.title}\n\n{body}"
    return body


def to_example(doc: Document, found: Found, include_context: bool = True) -> Example:
    """One Found conversation as an extracted Example with provenance."""
    indent = int(found.extra.get("indent", 0))
    turns = [Turn(role, turn_text(doc.text, segments, indent)) for role, segments in found.turns]
    example = Example(turns=turns, mode="identify", origin="extracted", source_file=doc.path,
                      location=found.location, span=found.span)
    example.context = _context(doc, found) if include_context else ""
    example.topic_keywords = keywords(example.question + "\n" + example.answer)
    example.question_type = question_type(example.question)
    return example


def find_all(doc: Document) -> list[Found]:
    """Every pattern over one document; where two overlap, the more explicit pattern wins."""
    lines = to_lines(doc)
    text = doc.text
    candidates = (detect_rows(doc) + detect_slides(doc) + detect_admonitions(text, lines)
                  + detect_labelled(text, lines) + detect_mail(text, lines)
                  + detect_transcripts(text, lines)
                  + detect_faq(text, lines) + detect_headings(text, lines)
                  + detect_standalone(text, lines))
    kept: list[Found] = []  # sorted by span, never overlapping
    spans: list[tuple[int, int]] = []
    for item in candidates:
        at = bisect.bisect_left(spans, item.span)
        if (at and spans[at - 1][1] > item.span[0]) or (at < len(spans) and spans[at][0] < item.span[1]):
            continue
        spans.insert(at, item.span)
        kept.insert(at, item)
    return kept


def detect(doc: Document, *, min_turns: int = 2, include_context: bool = True) -> list[Example]:
    """Every conversation found in one document, in reading order, with at least min_turns turns."""
    examples = []
    for found in find_all(doc):
        example = to_example(doc, found, include_context)
        if len(example.turns) >= min_turns and all(t.content for t in example.turns):
            examples.append(example)
    return examples
