"""Small text helpers shared by several stages (no stage-specific logic lives here)."""

from __future__ import annotations

import re

# English function words and filler: neither keywords (identify) nor content words (quality scores).
STOPWORDS = frozenset("""
a able about above according across after again against all already also always am among an and
another any anything are around as at away back based be because been before being below between
both but by can cannot context could did do document does doing don't done down during e.g each else
etc even ever every few first for from further get gets given got had has have having he her here
hers him his how i i'm i.e if in information into is it it's its itself just know last let like made
make many may me mentioned might more most much must my need new next no nor not now of off often on
once one only or other our ours out over own per please provided same say says see shall she should
since so some states such text than that the their theirs them then there there's these they this
those three through to too two under until up upon us use used using very via want was way we well
were what what's when where which while who whom whose why will with within without would yes yet
you your yours
""".split())


def preview(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` on one line (every run of whitespace one space), cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - len(ellipsis)] + ellipsis


_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(32), 127)} | {9: "\\t", 10: "\\n", 13: "\\r"}


def printable_name(name: str) -> str:
    """A file name or path safe to show, store and send: undecodable bytes as `\\xe9`, controls as
    `\\n`/`\\x1b`. OS paths arrive with such bytes as surrogate escapes (`caf\\udce9.md`), which
    SQLite, JSON and the console refuse; this form is unambiguous and readable (like `ls -b`)."""
    if name.isprintable():
        return name
    try:
        raw = name.encode("utf-8", "surrogateescape")  # back to the bytes the file system holds
    except UnicodeEncodeError:  # a lone surrogate that no file system byte stands for
        raw = name.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace").translate(_CONTROL_ESCAPES)


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    """True when `text` holds a surrogate code point, which UTF-8 cannot encode."""
    return _SURROGATE.search(text) is not None


def valid_unicode(text: str) -> str:
    """`text` as UTF-8 can store it: a lone surrogate (half of a split emoji, as a model's
    `"\\ud83d"` escape or an undecodable file name gives) becomes U+FFFD; a split pair is joined."""
    if not has_surrogates(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


# The catalog's citation tags ("[A1]", "[M1][M2]", "[O7/O10]", "[GT]"): kept in `models --json`
# and the catalog's sources, left out of every message a person reads.
_SOURCE_TAG = re.compile(r"\s?\[(?:GT|[A-Z]{1,2}\d+(?:/[A-Z]{1,2}\d+)*)?\]")


def strip_source_tags(text: str) -> str:
    """`text` without the catalog's internal source tags."""
    return _SOURCE_TAG.sub("", text) if "[" in text else text


# What models wrap a question or answer in: the prompt's passage delimiters echoed back, code
# fences, a label ("Answer:", "Q1:"), quotation marks around the whole text.
_FENCE_EDGE = re.compile(r'^\s*(?:"""|\'\'\'|```[\w-]*)\s*|\s*(?:"""|\'\'\'|```)\s*$')
_LABEL = re.compile(r"^\s*(?:q|a|question|answer)\s*\d*\s*:\s+", re.I)
_QUOTE_PAIRS = {'"': '"', "“": "”", "'": "'", "«": "»", "„": "“"}


def strip_quoting(text: str) -> str:
    """`text` without the delimiters, labels and enclosing quotes a model put around it; the
    text itself is untouched (a quote inside stays)."""
    previous = None
    while previous != text:
        previous = text
        text = _LABEL.sub("", _FENCE_EDGE.sub("", text)).strip()
        if len(text) > 1 and _QUOTE_PAIRS.get(text[0]) == text[-1] and \
                text[0] not in text[1:-1] and text[-1] not in text[1:-1]:
            text = text[1:-1].strip()
    return text
