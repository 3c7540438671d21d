"""Claim-level grounding, offline: every answer split into atomic claims, each located in its source.

A claim is a sentence of the answer, or a clause of one (split at ';', ', and', ', but', ', where',
' - ' ... when both sides make a statement of their own). Framing without content ("Yes.", "Here is
how:") and questions are not claims. The evidence of a claim is the passage of the source that
holds most of its content words: one sentence, two adjacent ones, or (for a claim that joins two
facts) two of the best-matching sentences. The claim is *supported* when that evidence holds at
least CLAIM_SUPPORT of its content words and every figure of the claim, and every name, currency
and month it mentions occurs in the source. Otherwise it is *unsupported*, and `missing` says what
the source lacks. Faithfulness is supported claims / claims. The check is lexical: a claim that
reverses its evidence ("not", "before" for "after") with the same words passes; the LLM judge
(judge.py) is there for that.

Offsets are character offsets, [start, end): claims in `Example.answer`, evidence in
`Example.context`.

Verbatim (extracted) samples are the document's own text: their claims are located in the context
like any other (so the report can show where they stand), and a claim the matcher cannot place is
still supported, as "verbatim"; their faithfulness is 1. Without any source text claims are
"unchecked" and there is no faithfulness score (like the extractive score, it cannot be measured).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from src.config import QualityConfig
from src.models import Claim, Example
from src.quality.facts import (
    Passage,
    content_words,
    facts_of,
    figures,
    missing_facts,
    name_candidates,
    pieces,
    source_of,
    tokenize,
    trim,
)

CLAIM_SUPPORT = 0.6  # share of a claim's content words its evidence passage must hold
MIN_CLAIM_WORDS = 2  # content words (or one word and a figure) that make a piece a claim
MIN_CLAUSE_WORDS = 3  # a clause is split off its sentence only when both sides have this many
MAX_CLAIMS = 40  # a very long answer: the first 40 claims are checked
CANDIDATES = 3  # best-matching source sentences around which windows are compared
_CLAUSE_BREAK = re.compile(r"\s*;\s+|,\s+(?:and|but|while|whereas|so|yet|where|which|although|though)\s+"
                           r"|\s+[-–—]\s+", re.I)
_LIST_MARK = re.compile(r"(?:[-*•]|\d{1,2}[.)]|[a-z][.)])\s+|#+\s+")  # match() anchors it


def split_claims(answer: str) -> list[tuple[int, int]]:
    """[start, end) of each atomic claim of `answer`, in order."""
    claims: list[tuple[int, int]] = []
    for start, end in pieces(answer):
        mark = _LIST_MARK.match(answer, start, end)
        start = mark.end() if mark else start
        if answer[start:end].rstrip().endswith("?"):
            continue  # a question asks, it does not claim
        least = 1 if mark else MIN_CLAIM_WORDS  # a list item ("2. A passport.") claims in few words
        claims += [span for span in _clauses(answer, start, end)
                   if _is_claim(answer[span[0]:span[1]], least)]
    return claims[:MAX_CLAIMS]


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentence [start, end) cut at clause breaks where both sides make a statement."""
    spans = [(start, end)]
    for match in _CLAUSE_BREAK.finditer(text, start, end):
        left_start = spans[-1][0]
        left, right = text[left_start:match.start()], text[match.end():end]
        if _words(left) >= MIN_CLAUSE_WORDS and _words(right) >= MIN_CLAUSE_WORDS:
            spans[-1] = (left_start, match.start())
            spans.append((match.end(), end))
    return [trim(text, s, e) for s, e in spans]


def _words(text: str) -> int:
    return len(content_words(tokenize(text)))


def _is_claim(text: str, least: int) -> bool:
    words = _words(text)
    if text.rstrip().endswith(":") and words < 4:
        return False  # "Here are the steps:" introduces claims, it makes none
    return words >= least or (words >= 1 and any(c.isdigit() for c in text))


@dataclass
class _Claim:
    """What one claim needs matched: its content stems and the accepted values of its figures."""

    stems: set[str]
    figures: list[tuple[str, set[str]]]


def _score(claim: _Claim, window: list[Passage]) -> tuple:
    """(figures found, share of stems found, fewer passages, shorter) for one evidence window."""
    if len(window) == 1:
        stems, held = window[0].stems, window[0].numbers
    else:
        stems = frozenset().union(*(p.stems for p in window))
        held = frozenset().union(*(p.numbers for p in window))
    found = sum(bool(forms & held) for _, forms in claim.figures)
    coverage = len(claim.stems & stems) / len(claim.stems) if claim.stems else 1.0
    return found, coverage, -len(window), -sum(p.end - p.start for p in window)


def _candidates(claim: _Claim, passages: tuple[Passage, ...]) -> list[int]:
    """The passages holding most of the claim's words and figures, best first."""
    values = {v for _, forms in claim.figures for v in forms}
    counts = [len(claim.stems & p.stems) + len(values & p.numbers) for p in passages]
    ranked = sorted((n for n, count in enumerate(counts) if count), key=lambda n: -counts[n])
    return ranked[:CANDIDATES] or [0]


def _best_window(claim: _Claim, passages: tuple[Passage, ...]) -> tuple[tuple, list[Passage]]:
    """The best evidence: one passage, two adjacent ones, or (a claim joining two facts of the
    source) two of the best-matching passages anywhere in it."""
    ranked = _candidates(claim, passages)
    first = [passages[ranked[0]]]
    best = (_score(claim, first), first)
    if best[0][:2] == (len(claim.figures), 1.0):
        return best  # the usual case: one sentence holds all of it
    last = len(passages) - 1
    groups = {tuple(sorted({lo, hi})) for n in ranked
              for lo, hi in ((n, n), (max(0, n - 1), n), (n, min(last, n + 1)))}
    groups |= {tuple(sorted((a, b))) for i, a in enumerate(ranked) for b in ranked[i + 1:]}
    for group in sorted(groups):
        window = [passages[n] for n in group]
        score = _score(claim, window)
        if score > best[0]:
            best = (score, window)
    return best


def _spans(window: list[Passage]) -> list[tuple[int, int]]:
    """The window's passages as spans, adjacent ones joined."""
    spans: list[tuple[int, int]] = []
    for passage in window:
        if spans and passage.start - spans[-1][1] <= 2:
            spans[-1] = (spans[-1][0], passage.end)
        else:
            spans.append((passage.start, passage.end))
    return spans


def _check(text: str, passages: tuple[Passage, ...], absent: list[str]) -> Claim:
    """One claim against its source: status, evidence spans, and what is missing. `absent` holds
    the answer's names, currencies, months and figures that occur nowhere in the source."""
    claim = _Claim(content_words(tokenize(text)), figures(text))
    (_, coverage, _, _), window = _best_window(claim, passages)
    lower = text.lower()
    missing = [item for item in absent if item.lower() in lower]
    held = frozenset().union(*(p.numbers for p in window))
    missing += [raw for raw, forms in claim.figures if not forms & held and raw not in missing]
    if coverage < CLAIM_SUPPORT:
        missing.append(f"{coverage:.0%} of its words in the closest passage")
    if missing:
        return Claim(0, 0, "unsupported", [], missing)
    return Claim(0, 0, "supported", _spans(window))


def ground(answer: str, context: str, verbatim: bool = False,
           absent: list[str] | None = None) -> list[Claim]:
    """The claims of `answer`, each located in `context` (see the module docstring). `absent`:
    the answer's figures, names, currencies and months not in the context, when already known."""
    spans = split_claims(answer)
    if not context.strip():
        status = "verbatim" if verbatim else "unchecked"
        return [Claim(s, e, status) for s, e in spans]
    source = source_of(context)
    if absent is None:
        absent = missing_facts(answer, facts_of(answer), name_candidates(answer), source)
    claims = []
    for start, end in spans:
        claim = _check(answer[start:end], source.passages, absent)
        claim.start, claim.end = start, end
        if verbatim and not claim.supported:
            claim.status, claim.missing = "verbatim", []
        claims.append(claim)
    return claims


def faithfulness(claims: list[Claim]) -> float | None:
    """Supported claims / claims; None when nothing could be checked."""
    checked = [c for c in claims if c.status != "unchecked"]
    if not checked:
        return None
    return sum(c.supported for c in checked) / len(checked)


def claim_text(example: Example, claim: Claim) -> str:
    """The words of one claim of `example`."""
    return example.answer[claim.start:claim.end]


def evidence_text(example: Example, claim: Claim) -> str:
    """The source passage that supports `claim` ("" when it has none)."""
    return " … ".join(example.context[start:end] for start, end in claim.evidence)


def check_claims(example: Example, config: QualityConfig,
                 absent: list[str] | None = None) -> tuple[float | None, list[str], list[str]]:
    """Fill example.claims; (faithfulness, notes, reasons) for the scoring step."""
    example.claims = ground(example.answer, example.context, example.origin == "extracted", absent)
    score = faithfulness(example.claims)
    if score is None:
        return None, ["faithfulness not checked: no source text or no claim"], []
    unsupported = [c for c in example.claims if not c.supported]
    limit = config.thresholds.faithfulness
    note = (f"faithfulness {score:.2f}: {len(example.claims) - len(unsupported)}/"
            f"{len(example.claims)} claims supported by the source")
    if unsupported:
        shown = "; ".join(f"{claim_text(example, c)!r} ({', '.join(c.missing[:3])})"
                          for c in unsupported[:3])
        note += f"; unsupported: {shown}"
    return score, [note], (["unsupported_claims"] if score < limit else [])
