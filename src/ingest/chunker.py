"""Paragraph-preserving, token-bounded chunks of a Document for create mode.

Blocks are packed whole while they fit. A block larger than the limit is split at sentence ends,
only a sentence larger than the limit is cut between words, and only a "word" larger than the
limit (a base64 image, a long URL) between characters: no chunk is ever over the limit. Every
chunk is a verbatim slice of `Document.text` (`text == doc.text[start:end]`) and names the
location of its blocks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from src.models import Chunk, Document

_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])[\"'”’)\]]*\s+|\n+")
_NUMBERED = re.compile(r"^(.*?)(\w+) (\d+)$")


@dataclass
class _Piece:
    """A span of the document text that is never split further: a block, sentence or word run."""

    start: int
    end: int
    tokens: int
    location: str


def chunk_document(doc: Document, max_tokens: int, count_tokens: Callable[[str], int],
                   overlap_tokens: int = 0, min_tokens: int = 1) -> list[Chunk]:
    """Chunks of at most ~max_tokens; a document under min_tokens yields none."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    overlap_tokens = min(max(overlap_tokens, 0), max_tokens // 2)
    budget = max_tokens - overlap_tokens  # room left for the overlap carried into each chunk
    pieces = list(_pieces(doc, budget, count_tokens))
    groups = _pack(pieces, budget)
    groups = _merge_small_tail(groups, min_tokens, budget)
    groups = [part for group in groups for part in _within(doc, group, budget, count_tokens)]
    if len(groups) == 1 and sum(p.tokens for p in groups[0]) < min_tokens:
        return []
    chunks = []
    for index, group in enumerate(groups):
        group = _with_overlap(doc, groups[index - 1], group, count_tokens, overlap_tokens) \
            if index and overlap_tokens > 0 else group
        chunks.append(_chunk(doc, index, group, count_tokens))
    return chunks


def _pieces(doc: Document, max_tokens: int, count: Callable[[str], int]) -> Iterator[_Piece]:
    """Whole blocks, or for an oversize block its sentences (or word runs for huge sentences)."""
    for block in doc.blocks:
        tokens = count(block.text)
        if tokens <= max_tokens:
            yield _Piece(block.start, block.start + len(block.text), tokens, block.location)
            continue
        for start, end in sentence_spans(block.text):
            text = block.text[start:end]
            n = count(text)
            if n <= max_tokens:
                yield _Piece(block.start + start, block.start + end, n, block.location)
            else:
                yield from _word_runs(block.start + start, text, max_tokens, count, block.location)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of `text`, whitespace between them left out."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _word_runs(offset: int, text: str, max_tokens: int, count: Callable[[str], int],
               location: str) -> Iterator[_Piece]:
    """A sentence over the limit, cut between words into runs of at most max_tokens; a single
    "word" over the limit (a base64 blob, a long URL) is cut between characters."""
    words = [m.span() for m in re.finditer(r"\S+", text)]
    first = 0
    while first < len(words):
        start = words[first][0]
        if count(text[start:words[first][1]]) > max_tokens:
            yield from _char_runs(offset + start, text[start:words[first][1]], max_tokens, count,
                                  location)
            first += 1
            continue

        def fits(j: int, at: int = start) -> bool:
            return count(text[at:words[j][1]]) <= max_tokens
        last = _longest(first, len(words) - 1, fits)
        end = words[last][1]
        yield _Piece(offset + start, offset + end, count(text[start:end]), location)
        first = last + 1


def _char_runs(offset: int, text: str, max_tokens: int, count: Callable[[str], int],
               location: str) -> Iterator[_Piece]:
    """Text without spaces over the limit, cut into runs of at most max_tokens."""
    start = 0
    while start < len(text):

        def fits(j: int, at: int = start) -> bool:
            return count(text[at:j]) <= max_tokens
        end = _longest(start + 1, len(text), fits)
        yield _Piece(offset + start, offset + end, count(text[start:end]), location)
        start = end


def _longest(low: int, high: int, fits: Callable[[int], bool]) -> int:
    """The largest j in [low, high] with fits(j), given fits(low) or not (then low) and that
    fits holds up to some point and fails after it. Gallops then bisects: O(log n) checks, each
    on a text not much longer than the answer, where growing one word at a time was quadratic."""
    good, step = low, 1
    while good + step <= high and fits(good + step):
        good += step
        step *= 2
    bad = min(good + step, high + 1)
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    return good


def _pack(pieces: list[_Piece], max_tokens: int) -> list[list[_Piece]]:
    groups: list[list[_Piece]] = []
    used = 0
    for piece in pieces:
        if not groups or used + piece.tokens > max_tokens:
            groups.append([])
            used = 0
        groups[-1].append(piece)
        used += piece.tokens
    return groups


def _within(doc: Document, group: list[_Piece], max_tokens: int,
            count: Callable[[str], int]) -> list[list[_Piece]]:
    """The group, halved until each part's own text is within max_tokens (pieces fit one by one,
    but the separators between them count too): the hard cap on a chunk's size."""
    if len(group) == 1 or count(doc.text[group[0].start:group[-1].end]) <= max_tokens:
        return [group]
    half = len(group) // 2
    return _within(doc, group[:half], max_tokens, count) + \
        _within(doc, group[half:], max_tokens, count)


def _merge_small_tail(groups: list[list[_Piece]], min_tokens: int,
                      max_tokens: int) -> list[list[_Piece]]:
    """Fold a last chunk under min_tokens into the previous one when both still fit."""
    if len(groups) > 1:
        tail = sum(p.tokens for p in groups[-1])
        before = sum(p.tokens for p in groups[-2])
        if tail < min_tokens and tail + before <= max_tokens:
            groups[-2] = groups[-2] + groups[-1]
            groups.pop()
    return groups


def _with_overlap(doc: Document, previous: list[_Piece], group: list[_Piece],
                  count: Callable[[str], int], overlap_tokens: int) -> list[_Piece]:
    """Prepend the previous chunk's last whole sentences, up to overlap_tokens."""
    last = previous[-1]
    text = doc.text[last.start:last.end]
    taken: list[_Piece] = []
    used = 0
    for start, end in reversed(sentence_spans(text)):
        n = count(text[start:end])
        if used + n > overlap_tokens:
            break
        taken.insert(0, _Piece(last.start + start, last.start + end, n, last.location))
        used += n
    return taken + group


def _chunk(doc: Document, index: int, group: list[_Piece], count: Callable[[str], int]) -> Chunk:
    start, end = group[0].start, group[-1].end
    text = doc.text[start:end]
    # the document's path, not its bare name: a/faq.txt and b/faq.txt are different sources
    return Chunk(id=f"{doc.path}#{index}", source_file=doc.path, text=text,
                 location=span_location(group[0].location, group[-1].location),
                 tokens=count(text), index=index, start=start, end=end)


def span_location(first: str, last: str) -> str:
    """'page 2' + 'page 3' -> 'pages 2-3'; 'sheet A row 4' + 'sheet A row 9' -> 'sheet A rows 4-9'."""
    if first == last:
        return first
    a, b = _NUMBERED.match(first), _NUMBERED.match(last)
    if a and b and a.group(1, 2) == b.group(1, 2):
        return f"{a.group(1)}{a.group(2)}s {a.group(3)}-{b.group(3)}"
    return f"{first} to {last}"
