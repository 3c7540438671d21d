"""Offline language identification and the `language_mismatch` rule of quality scoring.

Plain English (many distinctly English function words, ASCII letters almost only) is recognised at
once without a model, which keeps 100,000-sample runs fast. Other text goes to py3langid (a
naive-Bayes model of about 4 MB shipped inside the wheel: no download, no network). Only the first
`SAMPLE_CHARS` characters are read, plenty for a language and cheap for long chunks. Short or
ambiguous text gives "und".

A sample is in the wrong language when its detected language differs from the expected one (config's
`quality.target_language`, else its source's language). Two texts in different scripts (Latin vs
Bengali) are a mismatch at ordinary confidence; two texts in the same script must both be detected
with `SAME_SCRIPT_CONFIDENCE`, because close languages (en/nl, hi/mr) are easy to confuse.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from src.errors import StorageError
from src.utils.text import STOPWORDS

UNDETERMINED = "und"
SAMPLE_CHARS = 240
ENGLISH_CHARS = 1200  # the fast path also looks this far: a title or a list rarely holds markers
MIN_LETTERS = 12  # fewer letters than this: too short to tell ("Yes.", "₹1,20,000")
MIN_CONFIDENCE = 0.5
SAME_SCRIPT_CONFIDENCE = 0.8
ENGLISH_MARKER_SHARE = 0.15  # share of distinctly English function words that settles "en" at once
_ENGLISH_MARKERS = frozenset("the and of to with that this are was were have has from you your will "
                             "can which is for be it by should would".split())
ENGLISH_NON_ASCII_SHARE = 0.1  # words with other letters the fast path allows
ENGLISH_FEW_MARKERS, ENGLISH_COMMON_SHARE = 0.06, 0.25  # fewer markers, but many function words
_ENGLISH_COMMON = _ENGLISH_MARKERS | STOPWORDS  # English function words and filler
_WORD_RE = re.compile(r"[^\W\d_]+")
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
_NON_ASCII_LETTER_RE = re.compile(r"[^\W\d_A-Za-z]")

_SCRIPT_NAMES = ("LATIN", "BENGALI", "DEVANAGARI", "ARABIC", "CYRILLIC", "GREEK", "HEBREW",
                 "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "TAMIL", "TELUGU", "GUJARATI",
                 "GURMUKHI", "KANNADA", "MALAYALAM", "SINHALA", "MYANMAR", "ETHIOPIC")


@lru_cache(maxsize=1)
def _identifier() -> Any:
    # py3langid loads its model on first use (tens of ms and MB): only when a language is checked
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    try:  # its loader unpacks the model into a temporary file first
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    except OSError as exc:
        raise StorageError(f"Cannot load the language model: writing its temporary file failed "
                           f"({exc.strerror or exc}). Free some disk space (or point TMPDIR at "
                           "a folder with room) and run again; what was saved is kept.") from None


@lru_cache(maxsize=4096)
def _char_script(char: str) -> str:
    name = unicodedata.name(char, "")
    return next((s for s in _SCRIPT_NAMES if name.startswith(s)), "OTHER")


def script(text: str) -> str:
    """The dominant writing system of the letters in `text` ("LATIN", "BENGALI", ... or "")."""
    sample = text[:SAMPLE_CHARS]
    counts = {"LATIN": len(_ASCII_LETTER_RE.findall(sample))}
    if not sample.isascii():
        for char in _NON_ASCII_LETTER_RE.findall(sample):
            name = _char_script(char)
            counts[name] = counts.get(name, 0) + 1
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ""


def _looks_english(words: list[str]) -> bool:
    """A fast path for the common case: plain English needs no model (which costs ~90 MB of
    memory). Product text full of names and figures has fewer markers; a larger set of English
    function words then settles it. A few non-ASCII words (a street name) do not stop it."""
    if len(words) < 6 or sum(not w.isascii() for w in words) > ENGLISH_NON_ASCII_SHARE * len(words):
        return False
    markers = sum(w in _ENGLISH_MARKERS for w in words)
    if markers >= ENGLISH_MARKER_SHARE * len(words):
        return True
    common = sum(w in _ENGLISH_COMMON for w in words)
    return markers >= ENGLISH_FEW_MARKERS * len(words) and common >= ENGLISH_COMMON_SHARE * len(words)


def detect_with_confidence(text: str) -> tuple[str, float]:
    """(ISO 639-1 code or "und", confidence in [0, 1]) for `text`."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    words = _WORD_RE.findall(sample.lower())
    if sum(map(len, words)) < MIN_LETTERS:
        return UNDETERMINED, 0.0
    if _looks_english(words) or _looks_english(_WORD_RE.findall(text[:ENGLISH_CHARS].lower())):
        return "en", 1.0
    code, confidence = _identifier().classify(sample)
    if confidence < MIN_CONFIDENCE:
        return UNDETERMINED, confidence
    return code, confidence


def detect(text: str) -> str:
    """The language of `text` as an ISO 639-1 code, or "und" when it cannot be told."""
    return detect_with_confidence(text)[0]


@lru_cache(maxsize=8192)
def _source_language(source: str) -> tuple[str, float, str]:
    code, confidence = detect_with_confidence(source)
    return code, confidence, script(source)


def mismatch(sample_text: str, source_text: str, target_language: str = "") -> str | None:
    """A short explanation when `sample_text` is not in the expected language, else None.

    The expected language is `target_language` when set, else the language of `source_text`;
    with neither known the check passes.
    """
    found, confidence = detect_with_confidence(sample_text)
    if found == UNDETERMINED:
        return None
    target = target_language.strip().lower()
    if target:
        if found != target and confidence >= SAME_SCRIPT_CONFIDENCE:
            return f"language: sample is {found}, target_language is {target}"
        return None
    if not source_text.strip():
        return None
    expected, source_confidence, source_script = _source_language(source_text)
    if expected == UNDETERMINED or expected == found:
        return None
    if script(sample_text) != source_script or min(confidence, source_confidence) >= SAME_SCRIPT_CONFIDENCE:
        return f"language: sample is {found}, its source is {expected}"
    return None
