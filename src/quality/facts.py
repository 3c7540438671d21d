"""The checkable facts of a text, shared by the scores and the claim checks.

Stemmed tokens and content words, figures (numbers with their accepted values: separators, digit
scripts, lakh/crore/million multipliers), currencies, months and capitalised names, and whether the
figures and names of an answer occur in a source text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from src.utils.text import STOPWORDS

WORD_RE = re.compile(r"\w+")
_WORD_OR_BREAK = re.compile(r"\w+|\x00")
_PIECE_BREAK = re.compile(r"([.!?।][\"'”’)\]]?)\s+|\s*\n\s*")
_ABBREVIATIONS = frozenset("dr mr mrs ms prof st vs etc e.g i.e no rs approx fig inc ltd jr sr dept govt "
                           "univ".split())
_NAME_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# A product or model code: letters, then a digit, in one word ("Max4", "IP55", "E41", "X7s"). It
# is checked whole, like a name: "Max4" is not the name "Max" plus the figure 4, and "Max5" is not
# in a passage about the Max4. A word that starts with a digit ("5kg", "2nd") is a figure.
_CODE_RE = re.compile(r"(?<!\w)[^\W\d_]+\d[^\W_]*(?!\w)")
_NUMBER_RE = re.compile(r"\d+(?:[,\u00a0\u202f]\d{2,3})*(?:\.\d+)?")
_MULTIPLIER_RE = re.compile(r"\s*(lakhs?|lacs?|crores?|thousand|million|billion|k)\b", re.I)
_MULTIPLIERS = {"lakh": 100_000, "lac": 100_000, "crore": 10_000_000, "thousand": 1_000,
                "million": 1_000_000, "billion": 1_000_000_000, "k": 1_000}
_ENUMERATOR_RE = re.compile(r"^[ \t]*(?:step\s+)?(\d{1,2})\s*[.):]\s", re.I | re.M)
_CURRENCY_SYMBOLS = {"₹": "INR", "৳": "BDT", "$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_WORDS = {"rs": "INR", "inr": "INR", "rupee": "INR", "tk": "BDT", "taka": "BDT", "bdt": "BDT",
                   "usd": "USD", "dollar": "USD", "eur": "EUR", "euro": "EUR", "gbp": "GBP"}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_FULL_MONTHS = {m: i for i, m in enumerate(MONTHS) if m != "may"}  # lower-case "may" is a verb
# Capitalised short forms ("May", "Jan", "Sept"); a capital first keeps this scan fast on long chunks.
_CAPITAL_MONTH_RE = re.compile(r"[ADFJMNOS](?<!\w.)[aceopu][a-z]t?\b")
_SHORT_MONTHS = {"May": 4, **{m[:3].capitalize(): i for i, m in enumerate(MONTHS)}, "Sept": 8}
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORD_SET = frozenset(_NUMBER_WORDS)
_CAPITAL_STOP = STOPWORDS | frozenset("""
note however step please first then next finally overall additionally moreover furthermore
therefore thus
""".split()) | frozenset(MONTHS) | frozenset(m[:3] for m in MONTHS) | {"sept"}


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    return [stem_word(w) if w[-1] == "s" else w for w in WORD_RE.findall(text.lower())]


def content_words(words: list[str]) -> set[str]:
    return {t for t in words if t not in STOPWORDS and not t.isdigit()}


def _number_value(raw: str) -> str:
    if not raw.isascii():  # Bengali or Devanagari digits, no-break spaces as separators
        raw = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in raw if c not in "\u00a0\u202f")
    digits = raw.replace(",", "")
    if "." in digits:
        return digits.rstrip("0").rstrip(".") if digits.replace(".", "").strip("0") else "0"
    return str(int(digits))


def _figure_matches(text: str) -> list[tuple[re.Match[str], set[str]]]:
    skip = {m.start(1) for m in _ENUMERATOR_RE.finditer(text)}
    found = []
    for match in _NUMBER_RE.finditer(text):
        if match.start() in skip or (match.start() and text[match.start() - 1].isalpha()):
            continue  # an enumerator, or the digits of a code ("Max4": checked whole, see codes)
        value = _number_value(match.group())
        forms = {value}
        mult = _MULTIPLIER_RE.match(text, match.end())
        if mult:
            key = mult.group(1).lower().rstrip("s")
            forms.add(_number_value(f"{float(value) * _MULTIPLIERS[key]:.2f}"))
        found.append((match, forms))
    return found


def figures(text: str) -> list[tuple[str, set[str]]]:
    """(as written, accepted values) for every number in `text`, list enumerators excluded."""
    return [(match.group(), forms) for match, forms in _figure_matches(text)]


def figure_positions(text: str) -> list[tuple[int, set[str]]]:
    """(offset, accepted values) for every number in `text`, list enumerators excluded."""
    return [(match.start(), forms) for match, forms in _figure_matches(text)]


@dataclass
class Facts:
    """The checkable facts of one text: stemmed tokens, numbers, currencies, months, codes."""

    tokens: list[str]
    figures: list[tuple[str, set[str]]]
    currencies: set[str]
    months: list[int]
    codes: list[str] = field(default_factory=list)


def _currencies(text: str, tokens: list[str]) -> set[str]:
    found = {code for sym, code in _CURRENCY_SYMBOLS.items() if sym in text}
    return found | {_CURRENCY_WORDS[t] for t in set(tokens) & _CURRENCY_WORDS.keys()}


def _months(text: str, tokens: list[str]) -> list[int]:
    months = [_FULL_MONTHS[t] for t in tokens if t in _FULL_MONTHS]
    return months + [_SHORT_MONTHS[w] for w in _CAPITAL_MONTH_RE.findall(text) if w in _SHORT_MONTHS]


def facts_of(text: str) -> Facts:
    tokens = tokenize(text)
    return Facts(tokens, figures(text), _currencies(text, tokens), _months(text, tokens),
                 codes(text))


def codes(text: str) -> list[str]:
    """Product and model codes of `text` ("Max4", "IP55"), each once."""
    return list(dict.fromkeys(_CODE_RE.findall(text)))


def code_in_source(code: str, stems: frozenset[str]) -> bool:
    """The code is a word of the source, exactly (no prefix match: "Pro25" is not "Pro2")."""
    return stem_word(code.lower()) in stems


def pieces(text: str) -> list[tuple[int, int]]:
    """[start, end) of the sentences and lines of `text`, whitespace trimmed ("Dr. Rao" and
    "Rs. 500" do not end a sentence)."""
    spans, start = [], 0
    for match in _PIECE_BREAK.finditer(text):
        mark = match.group(1)
        if mark == "." and _abbreviation_before(text, match.start()):
            continue
        spans.append((start, match.start() + len(mark or "")))
        start = match.end()
    spans.append((start, len(text)))
    spans = [span for span in spans if span[0] < span[1]]
    if spans:  # the breaks take the whitespace around them: only the text's own ends need trimming
        spans[0], spans[-1] = trim(text, *spans[0]), trim(text, *spans[-1])
    return [span for span in spans if span[0] < span[1]]


def _abbreviation_before(text: str, dot: int) -> bool:
    """The dot ends an abbreviation, an initial or a list number ("2. A passport"), not a sentence."""
    words = text[max(0, dot - 7):dot].split()
    word = words[-1].lower() if words else ""
    if len(word) <= 2 and word.isdigit():
        return dot - len(word) == 0 or text[dot - len(word) - 1] == "\n"
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without the whitespace at either end."""
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


class Passage(NamedTuple):  # a tuple: some 50 per source text, built by the 100,000
    """One sentence (or line) of a source text: its span, content stems and figure values."""

    start: int
    end: int
    stems: frozenset[str]
    numbers: frozenset[str]


@dataclass(frozen=True)
class Source:
    """What the answer is checked against: the facts of one source text, and its sentences."""

    stems: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    numbers: frozenset[str]
    currencies: frozenset[str]
    months: frozenset[int]
    passages: tuple[Passage, ...]


@lru_cache(maxsize=8192)
def source_of(context: str) -> Source:
    """The facts of a source text, with its sentences (cached per text)."""
    spans = pieces(context)
    parts = _sentence_tokens(context, spans)
    words = [frozenset(part) for part in parts]
    numbers: dict[int, set[str]] = {}
    for n, distinct in enumerate(words):
        if not distinct.isdisjoint(_NUMBER_WORD_SET):
            numbers[n] = {_NUMBER_WORDS[t] for t in distinct & _NUMBER_WORD_SET}
    starts = [start for start, _ in spans]
    for offset, forms in figure_positions(context):
        numbers.setdefault(max(0, bisect.bisect_right(starts, offset) - 1), set()).update(forms)
    held = [frozenset(numbers.get(n, ())) for n in range(len(spans))]
    passages = tuple(Passage(start, end, distinct - STOPWORDS, values)  # digits kept: harmless
                     for (start, end), distinct, values in zip(spans, words, held))
    tokens = [t for part in parts for t in part]
    return Source(frozenset(tokens), frozenset(zip(tokens, tokens[1:])), frozenset().union(*held),
                  frozenset(_currencies(context, tokens)), frozenset(_months(context, tokens)),
                  passages)


def _sentence_tokens(text: str, spans: list[tuple[int, int]]) -> list[list[str]]:
    """The stemmed words of each span, from one regular-expression pass over the whole text
    (one pass per sentence costs three times as much on 50-sentence chunks)."""
    lower = text.lower()
    if len(lower) != len(text):  # lower() lengthened a character ("İ"): offsets would shift
        return [tokenize(text[start:end]) for start, end in spans]
    parts: list[list[str]] = [[]]
    for word in _WORD_OR_BREAK.findall("\x00".join([lower[s:e] for s, e in spans])):
        if word == "\x00":
            parts.append([])
        else:
            parts[-1].append(stem_word(word) if word[-1] == "s" else word)
    return parts


def name_candidates(text: str) -> list[str]:
    """Capitalised words that read as names: mid-sentence, acronyms, or starting a multi-word name."""
    matches = list(_NAME_RE.finditer(text))
    names = []
    for i, match in enumerate(matches):
        word = match.group()
        if not word[0].isupper() or len(word) < 2 or word.lower() in _CAPITAL_STOP:
            continue
        if _touches_digit(text, match.start(), match.end()):
            continue  # part of a code ("Max4": checked whole) or a unit ("5kg": a figure)
        before = text[max(0, match.start() - 8):match.start()].rstrip(" \t\"'“‘(*-•#")
        initial = not before or before[-1] in ".!?:;\n"
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        joined = (nxt is not None and nxt.group()[0].isupper() and not nxt.group().isupper()
                  and not text[match.end():nxt.start()].strip())  # "Amity University", not "Get SSC"
        if not initial or word.isupper() or joined:
            names.append(re.sub(r"['’]s$", "", word))
    return list(dict.fromkeys(names))


def _touches_digit(text: str, start: int, end: int) -> bool:
    return (end < len(text) and text[end].isdigit()) or (start > 0 and text[start - 1].isdigit())


def name_in_source(name: str, stems: frozenset[str]) -> bool:
    stem = stem_word(name.lower())
    if stem in stems or name.lower() in stems:
        return True  # "Indian" is grounded by "India", "Bangladeshi" by "Bangladesh"
    return any(stem[:k] in stems for k in range(max(4, len(stem) - 3), len(stem)))


def missing_facts(answer: str, facts: Facts, names: list[str], source: Source) -> list[str]:
    missing = [raw for raw, forms in facts.figures if not forms & source.numbers]
    missing += sorted(facts.currencies - source.currencies)
    missing += [MONTHS[m].capitalize() for m in sorted(set(facts.months) - source.months)]
    missing += [code for code in facts.codes if not code_in_source(code, source.stems)]
    return missing + [n for n in names if not name_in_source(n, source.stems)]


def unsupported_facts(answer: str, context: str) -> list[str]:
    """Figures, currencies, months and names in `answer` that do not occur in `context`."""
    return missing_facts(answer, facts_of(answer), name_candidates(answer), source_of(context))
