"""Identify mode, stage 1: conversations that already exist in a document, extracted verbatim.

The patterns live in `src/utils/detectors/` (labelled Q:/A: pairs, question headings and admonitions,
bold/numbered questions, speaker transcripts, question/answer columns, question-titled slides). Each
reports character spans of `Document.text`; this module cuts the turns out of those spans, changing
whitespace only, and adds provenance, context, keywords and a question-type guess.
"""

from __future__ import annotations

import re
from collections import Counter

from src.persistence.models import Document, Example, Turn
from src.utils.detectors import Found, find_all
from src.utils.detectors.lines import clean

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each else etc even ever
every few for from further get gets got had has have having he her here hers him his how i if in
into is it its itself just let like made make many may me might more most much must my need no nor
not now of off often on once one only or other our ours out over own per please same shall she
should since so some such than that the their theirs them then there these they this those
through to too under until up upon us use used using very via was we well were what when where
which while who whom whose why will with within without would yes yet you your yours able across
already always among another anything around away back cannot does don't i'm it's there's
what's yes etc e.g i.e one two three way want know see new first last next
""".split())
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


def turn_text(text: str, segments: list[tuple[int, int]]) -> str:
    """A turn's words: its source segments with whitespace normalised, joined by a line break."""
    return "\n".join(clean(text[start:end]) for start, end in segments)


def _context(doc: Document, found: Found) -> str:
    start, end = found.context or found.span
    body = doc.text[start:end].strip()
    if found.title and found.title not in body:
        return f"{found.title}\n\n{body}"
    return body


def to_example(doc: Document, found: Found, include_context: bool = True) -> Example:
    """One Found conversation as an extracted Example with provenance."""
    turns = [Turn(role, turn_text(doc.text, segments)) for role, segments in found.turns]
    example = Example(turns=turns, mode="identify", origin="extracted", source_file=doc.path,
                      location=found.location, span=found.span)
    example.context = _context(doc, found) if include_context else ""
    example.topic_keywords = keywords(example.question + "\n" + example.answer)
    example.question_type = question_type(example.question)
    return example


def detect(doc: Document, *, min_turns: int = 2, include_context: bool = True) -> list[Example]:
    """Every conversation found in one document, in reading order, with at least min_turns turns."""
    examples = []
    for found in find_all(doc):
        example = to_example(doc, found, include_context)
        if len(example.turns) >= min_turns and all(t.content for t in example.turns):
            examples.append(example)
    return examples
