"""Privacy option (privacy.redact_pii): take personal data out of text before a hosted LLM sees it.

E-mail addresses, phone numbers, card numbers (Luhn-checked), IBANs (mod-97-checked), account
numbers after a label such as "Account no." and API-key-like strings become placeholders such as
[EMAIL]. Nothing is restored: the dataset holds the redacted text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

API_KEY = re.compile(
    r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{30,}"
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})")
LABELLED_SECRET = re.compile(
    r"(?i)\b((?:api[_ -]?key|secret|token|password|passwd)\s*[:=]\s*['\"]?)"
    r"([A-Za-z0-9_\-./+=]{7,}[A-Za-z0-9_\-/+=])")
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
ACCOUNT = re.compile(
    r"(?i)\b((?:account|acct|a/c)(?:\s*(?:no\.?|number|#))?\s*[:#]?\s*)(\d[\d -]{5,22}\d)\b")
PHONES = [  # (pattern, group holding a label to keep)
    (re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}"
                r"(?:[\s.-]?\d{2,4}){1,4}(?!\w)"), 0),
    (re.compile(r"(?<![\w-])(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"), 0),
    (re.compile(r"(?i)\b((?:phone|tel|mobile|cell|fax)\.?:?\s*)(\d[\d\s.-]{5,16}\d)"), 1),
]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _sub(pattern: re.Pattern, label: str, text: str, counts: Counter,
         keep: Callable[[re.Match], bool] = lambda m: True, group: int = 0) -> str:
    def replace(match: re.Match) -> str:
        if not keep(match):
            return match.group(0)
        counts[label.strip("[]").lower()] += 1
        return match.group(1) + label if group else label
    return pattern.sub(replace, text)


def _card(match: re.Match) -> bool:
    digits = re.sub(r"\D", "", match.group(0))
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def redact(text: str) -> tuple[str, dict[str, int]]:
    """The text with personal data replaced, and how many of each kind were replaced."""
    counts: Counter[str] = Counter()
    text = _sub(API_KEY, "[API_KEY]", text, counts)
    text = _sub(LABELLED_SECRET, "[API_KEY]", text, counts, group=1)
    text = _sub(EMAIL, "[EMAIL]", text, counts)
    text = _sub(IBAN, "[IBAN]", text, counts, keep=lambda m: iban_ok(m.group(0)))
    text = _sub(CARD, "[CARD]", text, counts, keep=_card)
    text = _sub(ACCOUNT, "[ACCOUNT]", text, counts, group=1)
    for pattern, group in PHONES:
        text = _sub(pattern, "[PHONE]", text, counts, group=group)
    return text, dict(counts)
