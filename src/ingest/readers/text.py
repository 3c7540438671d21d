"""TXT and Markdown: blocks split on blank lines, markdown headings and list items, streamed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from src.config import InputConfig
from src.ingest.readers.common import DocBuilder
from src.ingest.readers.encoding import open_text
from src.models import Document

MAX_BLOCK_CHARS = 8000  # a long run of lines without a blank line is cut at a line boundary
MAX_LINE_CHARS = MAX_BLOCK_CHARS  # a longer line is read (and cut) in pieces of this size
_HEADING = re.compile(r"^\s*(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,8}(?:[-*+]|\d{1,3}[.)])\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")


class _Paragraphs:
    """Accumulates lines into blocks and flushes them into the builder."""

    def __init__(self, builder: DocBuilder):
        self.builder = builder
        self.lines: list[str] = []
        self.size = 0
        self.first_line = 0
        self.kind = "paragraph"
        self.level = 0

    def add(self, number: int, line: str, kind: str = "paragraph", level: int = 0) -> None:
        if not self.lines:
            self.first_line, self.kind, self.level = number, kind, level
        self.lines.append(line)
        self.size += len(line) + 1
        if self.size > MAX_BLOCK_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.builder.add("\n".join(self.lines), self.kind, f"line {self.first_line}",
                             level=self.level)
        self.lines, self.size = [], 0


def _plain(lines: Iterable[tuple[int, str, bool]], paragraphs: _Paragraphs) -> Iterator[None]:
    for number, line, continued in lines:
        if continued or line.strip():
            paragraphs.add(number, line)
        else:
            paragraphs.flush()
        yield


def _markdown(lines: Iterable[tuple[int, str, bool]], paragraphs: _Paragraphs) -> Iterator[None]:
    in_fence = False
    for number, line, continued in lines:
        yield
        if continued:
            pass
        elif _FENCE.match(line):
            in_fence = not in_fence
        elif in_fence:
            pass
        elif (heading := _HEADING.match(line)) is not None:
            paragraphs.flush()
            paragraphs.builder.add(heading.group(2), "heading", f"line {number}",
                                   level=len(heading.group(1)))
            continue
        elif not line.strip():
            paragraphs.flush()
            continue
        elif _BULLET.match(line):
            paragraphs.flush()
            indent = len(line) - len(line.lstrip())
            paragraphs.add(number, line, "list_item", indent // 2)
            continue
        paragraphs.add(number, line, paragraphs.kind if paragraphs.lines else "paragraph")


def read(path: Path, settings: InputConfig, password: str | None = None) -> Iterator[Document]:
    """Read a .txt or .md file (encoding detected, streamed line by line, in parts when large)."""
    fmt = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
    builder = DocBuilder(path, fmt, streamable=True)
    stream, _encoding, warning = open_text(path)
    if warning:
        builder.warn(warning)
    paragraphs = _Paragraphs(builder)
    replaced = 0
    with stream:
        for _ in (_markdown if fmt == "md" else _plain)(_lines(stream), paragraphs):
            if builder.full:
                replaced += _replaced(builder)
                yield builder.cut()
    paragraphs.flush()
    replaced += _replaced(builder)
    if replaced:
        builder.warn(f"{replaced} byte sequences could not be decoded and were replaced with "
                     "'\ufffd'.")
    yield builder.build(empty_reason="no text found (the file holds only blank lines).")


def _lines(stream: IO[str]) -> Iterator[tuple[int, str, bool]]:
    """(line number, text without its newline, continues the previous piece) for each line.

    A line longer than MAX_LINE_CHARS comes in pieces, cut after its last space when it has one
    (the space becomes the line break between them), so a file of one 50 MB line (minified
    text, a base64 blob) never sits whole in memory and every block stays small."""
    number, carry, continued = 0, "", False
    while piece := stream.readline(MAX_LINE_CHARS):
        text = carry + piece
        if text.endswith("\n") or len(piece) < MAX_LINE_CHARS:
            number += 0 if continued else 1
            yield number, text.rstrip("\n"), continued
            carry, continued = "", False
            continue
        cut = text.rfind(" ", len(text) // 2)
        head, carry = (text[:cut], text[cut + 1:]) if cut > 0 else (text, "")
        number += 0 if continued else 1
        yield number, head, continued
        continued = True
    if carry:
        yield number, carry, True


def _replaced(builder: DocBuilder) -> int:
    return sum(b.text.count("\ufffd") for b in builder.blocks)
