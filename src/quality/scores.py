"""SetForge quality scores: extractive (grounding), detail, domain and overall, each explained.

Everything is local and fast (regular expressions and token sets; facts.py finds the figures and
names). The source text of an example is `example.context`; its facts are computed once per
distinct context (cached), since a chunk usually yields several samples.

- extractive: share of the answer's content words (stemmed), of its word pairs, and of its
  sentences found in the source. Independently, every figure (number, currency, month) and proper
  name in the answer must occur in the source, or the example is rejected as `hallucinated_figures`.
- detail: concrete information in the answer: figures, amounts, dates, names, steps, substance.
- domain: weighted keywords and entities of `quality.domain` found in the question and answer;
  `NEUTRAL_DOMAIN` (and left out of the overall score) when no profile is configured.
- overall: the weighted mean of the sub-scores that apply (extractive does not apply without a source).
- faithfulness (claims.py): the share of the answer's atomic claims its source supports; below
  `quality.thresholds.faithfulness` the example is rejected as `unsupported_claims`. A gate like the
  figure check, not part of overall.

Verbatim extracted examples (origin "extracted") are text from the document itself: they count as
fully grounded; their detail, domain and language are scored like any other. Text is never changed.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from src.config import DomainProfile, QualityConfig
from src.models import Example
from src.quality import language
from src.quality.claims import check_claims
from src.quality.facts import (
    WORD_RE,
    Facts,
    Source,
    content_words,
    facts_of,
    missing_facts,
    name_candidates,
    source_of,
    stem_word,
    tokenize,
)

NEUTRAL_DOMAIN = 1.0  # no domain profile: neutral, never rejects
NO_SOURCE_EXTRACTIVE = 1.0  # no source text: grounding cannot be checked (noted, not weighted)
DOMAIN_FULL_WEIGHT = 1.5  # summed weight of distinct profile terms that gives a domain score of 1
ENTITY_WEIGHT = 1.0
SUPPORTED_SENTENCE = 0.5  # a sentence is supported when this share of its content words is in the source
IRRELEVANT_COVERAGE = 0.1  # question + answer with less of their words in the source: irrelevant
DETAIL_SUBSTANCE_WORDS = 25  # distinct content words for the full "substance" part of detail

QUALITY_REASONS = ("hallucinated_figures", "unsupported_claims", "low_extractive", "missing_details",
                   "poor_domain_focus", "no_answer_in_context", "irrelevant",
                   "language_mismatch")  # most serious first
_NOTE_HEADS = ("extractive", "detail", "domain", "overall", "language", "hallucinated", "no-answer",
               "irrelevant", "faithfulness")


_SENTENCE_RE = re.compile(r"(?<=[.!?।])\s+|\n+")
_STEP_RE = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])\s+|\b(?:[Ff]irst|[Tt]hen|[Nn]ext|[Ff]inally)\b", re.M)
_NO_ANSWER_RE = re.compile(
    r"\b(?:(?:context|text|document|passage|information provided|source)\s+(?:does not|doesn't|did not"
    r"|do not)\s+(?:say|mention|contain|provide|specify|state|include|cover)"
    r"|(?:is|are) not (?:mentioned|specified|stated|provided|given) in the"
    r"|no information (?:about|on|regarding)|not enough information|cannot be determined from"
    r"|(?:i|we) (?:don't|do not) (?:know|have (?:that|this) information))", re.I)


def _extractive(answer: str, facts: Facts, source: Source) -> tuple[float, str]:
    content = content_words(facts.tokens)
    if not content:
        return 0.0, "extractive 0.00: the answer has no content words"
    words = len(content & source.stems) / len(content)
    pairs = list(zip(facts.tokens, facts.tokens[1:]))
    phrases = sum(p in source.bigrams for p in pairs) / len(pairs) if pairs else words
    sentences = [c for c in (content_words(tokenize(s)) for s in _SENTENCE_RE.split(answer)) if c]
    supported = sum(len(c & source.stems) >= SUPPORTED_SENTENCE * len(c) for c in sentences)
    sentence_share = supported / len(sentences) if sentences else words
    score = 0.35 * words + 0.35 * phrases + 0.3 * sentence_share
    return score, (f"extractive {score:.2f}: {words:.0%} of answer words, {phrases:.0%} of its word "
                   f"pairs and {supported}/{len(sentences)} sentences are in the source")


def _detail(answer: str, facts: Facts, names: list[str]) -> tuple[float, str]:
    # a product code ("IP55", "Max4") is as concrete as a figure (and was one before codes were
    # checked whole)
    figures = len(facts.figures) + len(facts.codes)
    amounts, dates = len(facts.currencies), len(facts.months)
    named, steps = min(4, len(names)), min(4, len(_STEP_RE.findall(answer)))
    substance = min(1.0, len(content_words(facts.tokens)) / DETAIL_SUBSTANCE_WORDS)
    score = min(1.0, 0.25 * figures + 0.15 * amounts + 0.15 * dates + 0.1 * named + 0.1 * steps
                + 0.4 * substance)
    return score, (f"detail {score:.2f}: {figures} figures, {amounts} currencies, {dates} dates, "
                   f"{named} names, {steps} steps, {substance:.0%} substance")


def detail_score(answer: str) -> tuple[float, str]:
    """Concrete information in `answer` in [0, 1], with a one-line explanation."""
    return _detail(answer, facts_of(answer), name_candidates(answer))


@dataclass(frozen=True)
class _Profile:
    """A domain profile prepared for matching: one-word terms by stem, phrases with patterns."""

    weights: dict[str, float]
    words: dict[str, str]
    phrases: tuple[tuple[str, re.Pattern[str]], ...]


@lru_cache(maxsize=64)
def _prepare(keywords: tuple[tuple[str, float], ...], entities: tuple[str, ...]) -> _Profile:
    weights = {e.strip().lower(): ENTITY_WEIGHT for e in entities if e.strip()}
    weights.update({k.strip().lower(): float(w) for k, w in keywords if k.strip()})
    words = {stem_word(t): t for t in weights if WORD_RE.fullmatch(t)}
    phrases = tuple((t, re.compile((r"(?<!\w)" if t[0].isalnum() else "") + re.escape(t)
                                   + (r"(?:s|es)?(?!\w)" if t[-1].isalnum() else "")))
                    for t in weights if not WORD_RE.fullmatch(t))
    return _Profile(weights, words, phrases)


def _profile(domain: DomainProfile) -> _Profile:
    return _prepare(tuple(domain.keywords.items()), tuple(domain.entities))


def _has_profile(domain: DomainProfile) -> bool:
    return bool(_profile(domain).weights)


def _terms(lower: str, stems: set[str], profile: _Profile) -> list[str]:
    found = [term for stem, term in profile.words.items() if stem in stems]
    return found + [t for t, pattern in profile.phrases if t in lower and pattern.search(lower)]


def domain_terms(text: str, domain: DomainProfile) -> list[str]:
    """The profile's keywords and entities that occur in `text` (lower case)."""
    return _terms(text.lower(), set(tokenize(text)), _profile(domain))


def _domain(lower: str, stems: set[str], domain: DomainProfile) -> tuple[float, str]:
    if not _has_profile(domain):
        return NEUTRAL_DOMAIN, "domain neutral: no domain profile configured (quality.domain)"
    profile = _profile(domain)
    terms = _terms(lower, stems, profile)
    score = min(1.0, sum(profile.weights[t] for t in terms) / DOMAIN_FULL_WEIGHT)
    return score, f"domain {score:.2f}: {', '.join(terms[:6]) or 'no profile term'}"


def _grounding(example: Example, facts: Facts, missing: list[str]) -> tuple[float, list[str], list[str]]:
    """(extractive score, notes, reasons) from comparing the answer with its source; `missing`:
    its figures and names that are not in the source."""
    if example.origin == "extracted":
        return 1.0, ["extractive 1.00: verbatim text from the document"], []
    if not example.context.strip():
        return NO_SOURCE_EXTRACTIVE, ["extractive not checked: no source text"], []
    score, note = _extractive(example.answer, facts, source_of(example.context))
    if not missing:
        return score, [note], []
    shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
    return score, [note, f"hallucinated figures/names not in the source: {shown}"], ["hallucinated_figures"]


def _content_checks(example: Example, question_tokens: list[str], facts: Facts,
                    config: QualityConfig) -> tuple[list[str], list[str]]:
    """(notes, reasons) for non-answers, irrelevant samples and the wrong language."""
    notes, reasons = [], []
    match = _NO_ANSWER_RE.search(example.answer)
    if match:
        notes.append(f"no-answer: the answer says {match.group()!r}")
        reasons.append("no_answer_in_context")
    if example.context.strip() and example.origin != "extracted":
        words = content_words(question_tokens + facts.tokens)
        share = len(words & source_of(example.context).stems) / len(words) if words else 0.0
        if share < IRRELEVANT_COVERAGE:
            notes.append(f"irrelevant: {share:.0%} of the question and answer words are in the source")
            reasons.append("irrelevant")
    text = example.text
    problem = language.mismatch(text, example.context, config.target_language)
    if problem:
        notes.append(problem)
        reasons.append("language_mismatch")
    return notes, reasons


def _overall(scores: dict[str, float], applies: dict[str, bool], config: QualityConfig) -> float:
    weights = {name: getattr(config.weights, name) for name in applies if applies[name]}
    total = sum(weights.values())
    if total <= 0:
        return sum(scores[n] for n in weights) / max(1, len(weights))
    return sum(scores[n] * w for n, w in weights.items()) / total


_SCORE_REASON = {"extractive": "low_extractive", "detail": "missing_details", "domain": "poor_domain_focus"}


def _threshold_reasons(scores: dict[str, float], applies: dict[str, bool],
                       config: QualityConfig) -> list[str]:
    """Categories for sub-scores under their thresholds; a low overall blames the weakest one."""
    limits = config.thresholds
    margins = {n: scores[n] - getattr(limits, n) for n in _SCORE_REASON if applies[n]}
    reasons = [_SCORE_REASON[n] for n, margin in margins.items() if margin < 0]
    if scores["overall"] < limits.overall and not reasons and margins:
        reasons.append(_SCORE_REASON[min(margins, key=margins.__getitem__)])
    return reasons


def _missing(example: Example, facts: Facts, names: list[str]) -> list[str]:
    if not example.context.strip():
        return []
    return missing_facts(example.answer, facts, names, source_of(example.context))


def _sub_scores(example: Example, config: QualityConfig) -> tuple[dict[str, float], list[str], list[str]]:
    """(scores without overall, notes, reasons) of one example."""
    answer = example.answer
    facts, names = facts_of(answer), name_candidates(answer)
    question_tokens = tokenize(example.question)
    missing = _missing(example, facts, names)
    extractive, notes, reasons = _grounding(example, facts, missing)
    detail, detail_note = _detail(answer, facts, names)
    domain, domain_note = _domain(f"{example.question}\n{answer}".lower(),
                                  set(question_tokens) | set(facts.tokens), config.domain)
    check_notes, check_reasons = _content_checks(example, question_tokens, facts, config)
    faithful, claim_notes, claim_reasons = check_claims(example, config, missing)
    scores = {"extractive": round(extractive, 4), "detail": round(detail, 4), "domain": round(domain, 4)}
    example.scores.pop("faithfulness", None)
    if faithful is not None:
        scores["faithfulness"] = round(faithful, 4)
    return (scores, notes + [detail_note, domain_note] + check_notes + claim_notes,
            reasons + check_reasons + claim_reasons)


def score_example(example: Example, config: QualityConfig) -> Example:
    """Fill example.scores and example.notes; append failure categories to example.reasons.

    With `config.enabled` false the scores and notes are filled but nothing is rejected.
    """
    scores, notes, reasons = _sub_scores(example, config)
    applies = {"extractive": example.origin == "extracted" or bool(example.context.strip()),
               "detail": True, "domain": _has_profile(config.domain)}
    scores["overall"] = round(_overall(scores, applies, config), 4)
    reasons = _threshold_reasons(scores, applies, config) + reasons
    limit = config.thresholds.overall
    verdict = ">=" if scores["overall"] >= limit else "<"
    notes.append(f"overall {scores['overall']:.2f} ({verdict} {limit:.2f})")
    example.scores.update(scores)
    example.notes = [n for n in example.notes if n.split(" ", 1)[0].rstrip(":") not in _NOTE_HEADS] + notes
    kept = [r for r in example.reasons if r not in QUALITY_REASONS]
    example.reasons = kept + (sorted(set(reasons), key=QUALITY_REASONS.index) if config.enabled else [])
    return example


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector: scoring makes no cycles, and its full scans over 100,000 live
    examples took 40% of the time of a large batch."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def score_examples(examples: list[Example], config: QualityConfig) -> list[Example]:
    """Score every example in place; returns the same list."""
    with _gc_paused():
        for example in examples:
            score_example(example, config)
    return examples
