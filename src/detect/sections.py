"""Questions that open a section: question headings, MkDocs '??? question' admonitions, bold or
numbered question paragraphs. The answer is everything up to the next boundary."""

from __future__ import annotations

import re

from src.detect.lines import (
    BOLD_WRAP,
    Found,
    Line,
    heading_text,
    is_question,
    norm,
    section_heading,
    strip_number,
    trim_span,
)

ADMONITION = re.compile(r'^[?!]{3}\+?\s+(?:question|faq|q)\b\s*(?:"\s*(.*?)\s*")?\s*$', re.IGNORECASE)
ANY_ADMONITION = re.compile(r"^[?!]{3}\+?\s+\w")
INLINE_BOLD_Q = re.compile(r"^(\*\*|__)(.+?\?)\1\s*[:.]?\s+(?=\S)")
NUMBERED_Q = re.compile(r"^(?:\d{1,3}[.)]|\(\d{1,3}\)|Q\d{1,3}[.:)])\s+")
MIN_NUMBERED_PAIRS = 2
ADMONITION_INDENT = 4  # MkDocs indents an admonition's body by four spaces


def _found(text: str, lines: list[Line], q: tuple[int, int], body: range, i: int,
           pattern: str) -> Found | None:
    q_span = trim_span(text, *q)
    a_span = trim_span(text, lines[body.start].start, lines[body.stop - 1].end)
    if q_span[0] >= q_span[1] or a_span[0] >= a_span[1]:
        return None
    return Found([("user", [q_span]), ("assistant", [a_span])],
                 (lines[i].start, lines[body.stop - 1].end), lines[i].location, pattern,
                 title=section_heading(lines, i))


# ------------------------------------------------------------------ question headings

def _heading_body_end(lines: list[Line], i: int, level: int) -> int:
    k = i + 1
    while k < len(lines):
        head = heading_text(lines[k])
        if head and (head[1] <= level or is_question(head[0], 2)) or ANY_ADMONITION.match(lines[k].text):
            break
        k += 1
    return k


def detect_headings(text: str, lines: list[Line]) -> list[Found]:
    """A heading that is a question; the answer runs to the next heading of the same or higher level."""
    found = []
    for i, line in enumerate(lines):
        head = heading_text(line)
        if not head or not is_question(strip_number(head[0]), 2):
            continue
        k = _heading_body_end(lines, i, head[1])
        if k == i + 1:
            continue  # a question heading with no body is not a Q&A
        q_start = line.start + line.text.rfind(strip_number(head[0]))
        item = _found(text, lines, (q_start, q_start + len(strip_number(head[0]))), range(i + 1, k),
                      i, "heading")
        if item:
            found.append(item)
    return found


# ------------------------------------------------------------------ MkDocs admonitions

def _admonition_end(lines: list[Line], i: int, level: int) -> int:
    k = i + 1
    indented = k < len(lines) and lines[k].indent >= 2
    while k < len(lines):
        head = heading_text(lines[k])
        if ANY_ADMONITION.match(lines[k].text) or (indented and lines[k].indent < 2) \
                or (head and head[1] <= level):
            break
        k += 1
    return k


def _section_level(lines: list[Line], i: int, outside: int) -> int:
    """Level of the nearest heading above lines[i] that is not inside an earlier admonition."""
    return next((h[1] for h in map(heading_text, reversed(lines[outside:i])) if h), 0)


def detect_admonitions(text: str, lines: list[Line]) -> list[Found]:
    """'??? question "Title"' with an indented body (MkDocs Material FAQ pages)."""
    found = []
    outside, level = 0, 0  # headings after `outside` are not inside an admonition body
    for i, line in enumerate(lines):
        match = ADMONITION.match(line.text)
        if not match or not match.group(1):
            continue
        level = _section_level(lines, i, outside) or level
        k = _admonition_end(lines, i, level)
        outside = k
        first = i + 1
        head = heading_text(lines[first]) if first < k else None
        if head and norm(head[0]) == norm(match.group(1)):
            first += 1  # the body repeats the question as a heading
        if first >= k:
            continue
        q_start = line.start + match.start(1)
        item = _found(text, lines, (q_start, q_start + len(match.group(1))), range(first, k), i,
                      "admonition")
        if item:
            inner = [ln.indent for ln in lines[first:k] if not ln.first and ln.indent]
            item.extra["indent"] = min(inner) if inner else ADMONITION_INDENT
            found.append(item)
    return found


# ------------------------------------------------------------------ bold and numbered questions

def _standalone(line: Line) -> tuple[int, int, str] | None:
    """(start, end, kind) of a whole-block question that is bold, numbered or a list item."""
    if not line.first or line.code or heading_text(line):
        return None
    wrap = BOLD_WRAP.match(line.text)
    if wrap and is_question(wrap.group(2)):
        return line.start + 2, line.start + 2 + len(wrap.group(2)), "bold"
    if line.bold and is_question(line.text):
        return line.start, line.end, "bold"
    number = NUMBERED_Q.match(line.text)
    if (number or line.kind == "list_item") and line.text.endswith("?") and is_question(
            line.text[number.end() if number else 0:]):
        return line.start + (number.end() if number else 0), line.end, "numbered"
    return None


def _single_line_block(lines: list[Line], i: int) -> bool:
    return i + 1 >= len(lines) or lines[i + 1].block != lines[i].block


def _run_answers(lines: list[Line], starts: list[int]) -> list[tuple[int, int]]:
    """(first, stop) answer line ranges for each standalone question start."""
    bounds = []
    for n, i in enumerate(starts):
        k = i + 1
        limit = starts[n + 1] if n + 1 < len(starts) else len(lines)
        while k < limit and not heading_text(lines[k]) and not ANY_ADMONITION.match(lines[k].text) \
                and not _inline_question(lines[k]):
            k += 1
        bounds.append((i + 1, k))
    return _trim_tail(lines, bounds)


def _trim_tail(lines: list[Line], bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where answers are one block each, a run's last answer is one block too (not the epilogue)."""
    if len(bounds) < 2 or any(lines[k - 1].block != lines[a].block for a, k in bounds[:-1] if k > a):
        return bounds
    a, k = bounds[-1]
    end = a + 1
    while end < k and (lines[end].block == lines[a].block or lines[end].kind == "list_item"):
        end += 1
    return bounds[:-1] + [(a, min(end, k))]


def detect_standalone(text: str, lines: list[Line]) -> list[Found]:
    """Bold questions (1 is enough) and numbered/list-item questions (2 or more) with answers below."""
    starts = [i for i, line in enumerate(lines) if _standalone(line) and _single_line_block(lines, i)]
    found = []
    for (first, stop), i in zip(_run_answers(lines, starts), starts):
        start, end, kind = _standalone(lines[i])  # type: ignore[misc]
        if stop > first and not _standalone(lines[first]):
            item = _found(text, lines, (start, end), range(first, stop), i, kind)
            if item:
                found.append(item)
    numbered = [f for f in found if f.pattern == "numbered"]
    if len(numbered) < MIN_NUMBERED_PAIRS:
        found = [f for f in found if f.pattern != "numbered"]
    return found + _inline_bold(text, lines)


def _inline_question(line: Line) -> re.Match | None:
    match = INLINE_BOLD_Q.match(line.text) if line.first and not line.code else None
    return match if match and is_question(match.group(2)) else None


def _inline_bold(text: str, lines: list[Line]) -> list[Found]:
    """'**How do I pay?** By card or transfer.' in one paragraph."""
    found = []
    for i, line in enumerate(lines):
        match = _inline_question(line)
        if not match:
            continue
        k = i + 1
        while k < len(lines) and lines[k].block == line.block:
            k += 1
        q = (line.start + 2, line.start + 2 + len(match.group(2)))
        a_span = trim_span(text, line.start + match.end(), lines[k - 1].end)
        found.append(Found([("user", [q]), ("assistant", [a_span])], (line.start, lines[k - 1].end),
                           line.location, "bold", title=section_heading(lines, i)))
    return found
