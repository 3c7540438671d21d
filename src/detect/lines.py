"""The shared view every detector works on: a document as non-blank lines with offsets.

Detectors never copy or rewrite text. They report `Found` conversations as character spans of
`Document.text`; `conversation_detector` cuts the turn texts out of those spans (whitespace
normalisation only).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from src.models import Block, Document

QUESTION_WORDS = frozenset(
    "how what when why where who whom whose which can could is are was were do does did should "
    "would will shall may might must has have had am".split())
# Second words that make "How ..."/"What ..." a question even without a question mark.
# A subject right after the wh-word ("How we work", "What I learned") is a noun clause, not a question.
QUESTION_SECOND = frozenset(
    "do does did is are was were can could should would will may might much many long often far "
    "to 's".split())
AUX_SUBJECTS = frozenset("i we you my our your it they there this the a an he she".split())
AUX_FIRST = frozenset("can could is are do does did should would will shall may am has have".split())
MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
BOLD_WRAP = re.compile(r"^(\*\*|__)(.+?)\1[:.]?$")
NUMBER_PREFIX = re.compile(r"^(?:Q\s*)?\(?\d{1,3}[.)]\s+|^Q\s*\d{1,3}\s*[:.)]\s+", re.IGNORECASE)


@dataclass
class Line:
    """One non-blank line of one block, with its offsets in Document.text (stripped)."""

    text: str
    start: int
    end: int
    block: int
    kind: str
    location: str
    level: int
    bold: bool
    first: bool  # first non-blank line of its block
    indent: int  # leading spaces before the text in the source
    code: bool = False  # inside a ``` fence (or the fence line itself): never a heading or marker
    section: str = ""  # text of the nearest heading above this line


@dataclass
class Found:
    """A conversation a detector found: turn spans in Document.text and where it sits."""

    turns: list[tuple[str, list[tuple[int, int]]]]  # (role, [(start, end), ...]) per turn
    span: tuple[int, int]
    location: str
    pattern: str
    context: tuple[int, int] | None = None  # defaults to span
    title: str = ""  # the heading the conversation sits under, for context
    extra: dict = field(default_factory=dict)


def block_bounds(doc: Document, block: Block, cursor: int) -> tuple[int, int]:
    """Where a block's text sits in doc.text (trusting Block.start, else searching from cursor)."""
    start = block.start
    if doc.text[start:start + len(block.text)] != block.text:
        found = doc.text.find(block.text, cursor)
        start = found if found >= 0 else cursor
    return start, start + len(block.text)


def to_lines(doc: Document) -> list[Line]:
    """Split every block into stripped non-blank lines that keep their offsets."""
    lines: list[Line] = []
    cursor = 0
    fenced = False
    for index, block in enumerate(doc.blocks):
        start, end = block_bounds(doc, block, cursor)
        cursor = end
        first = True
        offset = start
        for raw in doc.text[start:end].split("\n"):
            stripped = raw.strip()
            if stripped:
                lead = len(raw) - len(raw.lstrip())
                s = offset + lead
                fence = stripped.startswith(("```", "~~~"))
                lines.append(Line(stripped, s, s + len(stripped), index, block.kind,
                                  block.location, block.level, block.bold, first, lead,
                                  fenced or fence))
                fenced = fenced != fence
                first = False
            offset += len(raw) + 1
    _mark_sections(lines)
    return lines


def _mark_sections(lines: list[Line]) -> None:
    title = ""
    for line in lines:
        line.section = title
        head = heading_text(line)
        if head:
            title = head[0]


def clean(text: str) -> str:
    """Whitespace normalisation only: dedent, drop trailing spaces and runs of blank lines."""
    parts = text.strip("\n").split("\n")
    head = parts[0].strip()
    rest = textwrap.dedent("\n".join(parts[1:])) if len(parts) > 1 else ""
    body = "\n".join(line.rstrip() for line in ([head] + rest.split("\n") if rest else [head]))
    return unwrap(re.sub(r"\n{3,}", "\n\n", body).strip())


STRUCTURAL_LINE = re.compile(r"^(\s|[-*+>|#]|\d+[.)]\s|[A-Za-z][.)]\s)")


def unwrap(text: str) -> str:
    """Join soft-wrapped lines of a paragraph with a space, as Markdown renders them.

    Lines that start a list item, quote, table row, heading or indented code keep their break, and
    text with a code fence is left as it is.
    """
    if "```" in text or "\n" not in text:
        return text
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if line and out[-1] and not STRUCTURAL_LINE.match(line) and not out[-1].endswith(":"):
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def norm(text: str) -> str:
    """Collapse every run of whitespace to one space (the verbatim comparison)."""
    return " ".join(text.split())


def heading_text(line: Line) -> tuple[str, int] | None:
    """(text, level) when the line is a heading: a heading block or a Markdown '#' line."""
    if line.code:
        return None
    match = MD_HEADING.match(line.text)
    if match:
        return match.group(2), len(match.group(1))
    if line.kind == "heading" and line.first:
        return line.text, max(line.level, 1)
    return None


def is_question(text: str, min_words: int = 3) -> bool:
    """A cheap test: ends with '?' or reads as a direct question (How do..., Can I...)."""
    text = text.strip().strip("*_`").strip()
    words = re.findall(r"[\w'’]+", text.lower())
    if len(words) < min_words:
        return False
    if text.endswith("?"):
        return True
    if words[0] in QUESTION_WORDS - AUX_FIRST:
        return words[1] in QUESTION_SECOND
    return words[0] in AUX_FIRST and len(words) >= 4 and words[1] in AUX_SUBJECTS


def strip_number(text: str) -> str:
    """Drop a leading '3.', '3)', 'Q3.' numbering from a question."""
    return NUMBER_PREFIX.sub("", text, count=1)


def section_heading(lines: list[Line], index: int) -> str:
    """The nearest heading above lines[index] (the section a conversation sits in)."""
    return lines[index].section


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span over surrounding whitespace and Markdown bold markers ('**', '__')."""
    while True:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if text[start:start + 2] in ("**", "__"):
            start += 2
        elif end - start >= 2 and text[end - 2:end] in ("**", "__"):
            end -= 2
        else:
            return start, end
