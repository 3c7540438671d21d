"""FAQ sections whose entries need not be questions: 'Home delivery', 'Steps to reset the device',
'Do children need a second dose' (no '?'), set apart as headings, bold lines or larger type.

Whether a section is an FAQ is decided from its structure, never from one line: its title (or the
short paragraph right under it) names it an FAQ ('Frequently asked questions', 'FAQ', 'Preguntas
frecuentes', 'Häufige Fragen', ...) and is not a report about one ('FAQ usage report'), or most of
its entries read as questions. Entries are the lines of the section's most common entry style (one
heading level, or bold one-line paragraphs); each entry's answer runs to the next entry. Ordinary
reports, whose headings are statements under a title that names no FAQ, give nothing.
"""

from __future__ import annotations

import re
from collections import Counter

from src.detect.lines import (
    AUX_FIRST,
    AUX_SUBJECTS,
    BOLD_WRAP,
    QUESTION_WORDS,
    Found,
    Line,
    heading_text,
    is_question,
    trim_span,
)

FAQ_TITLE = re.compile(
    r"\bfaqs?\b|\bf\.a\.q\b|frequently asked|\bquestions?\b|\bq\s*&\s*a\b|\bq and a\b"
    r"|preguntas|\bfragen\b|foire aux questions|questions fréquentes|perguntas|domande"
    r"|vragen|вопрос|প্রশ্ন|জিজ্ঞাসা|प्रश्न|सवाल|よくある質問|常见问题|常見問題|자주 묻는", re.IGNORECASE)
# A title about an FAQ rather than one ('FAQ usage report', 'Questions raised at the meeting: minutes').
ABOUT_FAQ = re.compile(r"\b(report|minutes|statistics|usage|analysis|survey|results|agenda|"
                       r"review|audit|log)\b", re.IGNORECASE)
MAX_ENTRY_WORDS = 16
MAX_ENTRY_CHARS = 140
MAX_INTRO_CHARS = 300
MIN_ENTRIES = 2


def _style(line: Line, lines: list[Line], i: int) -> tuple[str, int] | None:
    """('h', level) or ('b', 0) when the line could be an FAQ entry, else None."""
    if not line.first or line.code or (i + 1 < len(lines) and lines[i + 1].block == line.block):
        return None
    head = heading_text(line)
    text = head[0] if head else line.text
    wrap = BOLD_WRAP.match(text)
    text = wrap.group(2) if wrap else text
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    if not words or len(words) > MAX_ENTRY_WORDS or len(text) > MAX_ENTRY_CHARS:
        return None
    if text.rstrip().endswith((".", ":", ";", ",")) and not text.rstrip().endswith("..."):
        return None
    if head:
        return ("h", head[1])
    return ("b", 0) if line.bold or wrap else None


def entry_text(line: Line) -> tuple[int, int]:
    """Offsets of an entry line's words, without '#' marks, '**' and a trailing ':'."""
    head = heading_text(line)
    start = line.start + (line.text.rfind(head[0]) if head else 0)
    end = start + len(head[0]) if head else line.end
    return start, end


def asks(text: str) -> bool:
    """A question with or without its '?' ('Do children need a second dose', 'What happens when a
    sailing is cancelled'), but not a noun clause ('What we do', 'How it works')."""
    text = text.strip("*_# ").strip()
    if is_question(text, 2):
        return True
    words = re.findall(r"[\w'’]+", text.lower())
    if len(words) < 3 or text.endswith((".", "!")):
        return False
    if words[0] in QUESTION_WORDS - AUX_FIRST:
        return words[1] not in AUX_SUBJECTS
    return words[0] in AUX_FIRST and words[1] not in ("be", "not")


def _titled_faq(lines: list[Line], i: int, stop: int) -> bool:
    """Whether the heading at i (or the document start, i = -1) names an FAQ, in its own words or
    in the short paragraph right under it."""
    texts = [lines[i].text] if i >= 0 else []
    k = i + 1
    while 0 <= i and k < stop and lines[k].block == lines[i].block:
        k += 1
    if k < stop and heading_text(lines[k]) is None and not lines[k].bold:
        block = lines[k].block
        intro = " ".join(line.text for line in lines[k:stop] if line.block == block)
        if len(intro) <= MAX_INTRO_CHARS:
            texts.append(intro)
    joined = " ".join(texts)
    return bool(FAQ_TITLE.search(joined)) and not ABOUT_FAQ.search(joined)


def _scopes(lines: list[Line]) -> list[tuple[int, int, int, bool]]:
    """(title index, end, level, titled) of every FAQ section; level 0 is the whole document.

    A titled FAQ takes every entry; a section whose entries are mostly questions only those
    entries that ask (the statements among them are headings of another kind)."""
    heads = [(i, h[1]) for i, line in enumerate(lines) if (h := heading_text(line))]
    found: list[tuple[int, int, int, bool]] = []
    for i, level in [(_document_title(lines), 0)] + heads:
        if found and i < found[-1][1]:
            continue  # inside an FAQ already found
        end = next((j for j, lv in heads if j > i and lv <= level), len(lines)) \
            if level else len(lines)
        entries = _entries(lines, i, end, level)
        if len(entries) < MIN_ENTRIES:
            continue
        titled = _titled_faq(lines, i, end)
        questions = sum(asks(lines[e].text) for e in entries)
        if titled or questions * 2 > len(entries):
            found.append((i, end, level, titled))
    return found


def _document_title(lines: list[Line]) -> int:
    """0 when the document opens with a heading or a bold line (its title), else -1."""
    return 0 if lines and (heading_text(lines[0]) or lines[0].bold) else -1


def _entries(lines: list[Line], title: int, end: int, level: int) -> list[int]:
    """Indices of the entries of a section (below its title line, with headings deeper than
    `level`): its lines in the most common entry style."""
    styles = {i: s for i in range(title + 1, end) if (s := _style(lines[i], lines, i))
              and (s[0] == "b" or s[1] > level)}
    if not styles:
        return []
    counts = Counter(styles.values())
    best = max(counts, key=lambda s: (counts[s], s[0] == "h", -s[1]))
    chosen = [i for i, s in styles.items() if s == best]
    answered = sum(1 for i, nxt in zip(chosen, chosen[1:] + [end])
                   if _prose(lines, (i + 1, _body_end(lines, i + 1, nxt, best))))
    return chosen if answered >= MIN_ENTRIES else []


def _body_end(lines: list[Line], start: int, stop: int, style: tuple[str, int] | None) -> int:
    """Where an entry's answer ends: before the next heading of its level or higher."""
    k = start
    while k < stop:
        head = heading_text(lines[k])
        if head and (style is None or style[0] == "b" or head[1] <= style[1]):
            break
        k += 1
    return k


def _continues(prev: Line, line: Line) -> bool:
    """A later block that still belongs to an answer: a list, or text carried over a page break."""
    return (line.kind == "list_item" or bool(re.match(r"^([-*•▪◦–]|\d{1,2}[.)])\s", line.text))
            or prev.text.endswith(":")
            or (line.location != prev.location and line.text[:1].islower()))


def _trim_last(lines: list[Line], bodies: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where every other answer is one block (with its list), the last one is too: what follows
    it is the page's closing text, not part of the answer."""
    if len(bodies) < 2:
        return bodies
    for a, k in bodies[:-1]:
        if any(lines[j].block != lines[j - 1].block and not _continues(lines[j - 1], lines[j])
               for j in range(a + 1, k)):
            return bodies
    a, k = bodies[-1]
    end = a + 1
    while end < k and (lines[end].block == lines[end - 1].block
                       or _continues(lines[end - 1], lines[end])):
        end += 1
    return bodies[:-1] + [(a, end)]


def _prose(lines: list[Line], body: tuple[int, int]) -> bool:
    """An answer is text, not only a table or a figure caption."""
    return any(lines[j].kind != "table_row" and not lines[j].text.startswith("|")
               and len(lines[j].text.split()) >= 3 for j in range(*body))


def _title_text(lines: list[Line], title: int) -> str:
    if title < 0:
        return ""
    head = heading_text(lines[title])
    return head[0] if head else lines[title].text


def detect_faq(text: str, lines: list[Line]) -> list[Found]:
    """Every entry of every FAQ section, with the text up to the next entry as its answer."""
    found = []
    for title, end, level, titled in _scopes(lines):
        entries = _entries(lines, title, end, level)
        style = _style(lines[entries[0]], lines, entries[0])
        bounds = [(i + 1, _body_end(lines, i + 1, nxt, style))
                  for i, nxt in zip(entries, entries[1:] + [end])]
        for i, (first, stop) in zip(entries, _trim_last(lines, bounds)):
            if stop <= first or not _prose(lines, (first, stop)) \
                    or not (titled or asks(lines[i].text)):
                continue
            q_span = trim_span(text, *entry_text(lines[i]))
            a_span = trim_span(text, lines[first].start, lines[stop - 1].end)
            if q_span[0] < q_span[1] and a_span[0] < a_span[1]:
                found.append(Found([("user", [q_span]), ("assistant", [a_span])],
                                   (lines[i].start, lines[stop - 1].end), lines[i].location,
                                   "faq", title=_title_text(lines, title)))
    return found
