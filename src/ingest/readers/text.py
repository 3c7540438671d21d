"""TXT and Markdown: blocks split on blank lines, markdown headings and list items, streamed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from src.config import InputConfig
from src.ingest.readers.common import DocBuilder
from src.ingest.readers.encoding import open_text
from src.models import Document

MAX_BLOCK_CHARS = 8000  # a long run of lines without a blank line is cut at a line boundary
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


def _plain(lines: Iterable[str], paragraphs: _Paragraphs) -> None:
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if line.strip():
            paragraphs.add(number, line)
        else:
            paragraphs.flush()


def _markdown(lines: Iterable[str], paragraphs: _Paragraphs) -> None:
    in_fence = False
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if _FENCE.match(line):
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


def read(path: Path, settings: InputConfig, password: str | None = None) -> Document:
    """Read a .txt or .md file (encoding detected, streamed line by line)."""
    fmt = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
    builder = DocBuilder(path, fmt)
    stream, _encoding, warning = open_text(path)
    if warning:
        builder.warn(warning)
    paragraphs = _Paragraphs(builder)
    with stream:
        (_markdown if fmt == "md" else _plain)(stream, paragraphs)
    paragraphs.flush()
    _warn_replaced(builder)
    return builder.build(empty_reason="no text found (the file holds only blank lines).")


def _warn_replaced(builder: DocBuilder) -> None:
    bad = sum(b.text.count("\ufffd") for b in builder.blocks)
    if bad:
        builder.warn(f"{bad} byte sequences could not be decoded and were replaced with '\ufffd'.")
