"""Chunking: paragraph-preserving, token-bounded, verbatim spans, locations, overlap."""

from __future__ import annotations

from pathlib import Path

from src.ingest.chunker import chunk_document, sentence_spans, span_location
from src.ingest.readers.common import DocBuilder
from src.models import Document


def words(text: str) -> int:
    return len(text.split())


def document(paragraphs: list[tuple[str, str]], name: str = "guide.txt") -> Document:
    builder = DocBuilder(Path(name), "txt")
    for text, location in paragraphs:
        builder.add(text, "paragraph", location)
    return builder.build()


def para(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i}" for i in range(n - 1)) + " end."


def test_paragraphs_are_packed_whole_and_spans_are_verbatim() -> None:
    doc = document([(para(30, "a"), "page 1"), (para(30, "b"), "page 1"), (para(30, "c"), "page 2")])
    chunks = chunk_document(doc, max_tokens=70, count_tokens=words)
    assert [c.tokens for c in chunks] == [60, 30]
    assert chunks[0].text == doc.blocks[0].text + "\n\n" + doc.blocks[1].text
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)
    assert [c.id for c in chunks] == ["guide.txt#0", "guide.txt#1"]
    assert chunks[1].location == "page 2" and chunks[0].source_file == "guide.txt"


def test_oversize_paragraph_splits_at_sentence_ends_only() -> None:
    sentences = [f"Sentence {i} has exactly six words." for i in range(20)]
    doc = document([(" ".join(sentences), "page 3")])
    chunks = chunk_document(doc, max_tokens=20, count_tokens=words)
    assert all(c.tokens <= 20 for c in chunks)
    assert all(c.text.endswith("words.") and c.text.startswith("Sentence") for c in chunks)
    assert " ".join(c.text for c in chunks) == doc.text


def test_a_sentence_over_the_limit_is_cut_between_words() -> None:
    doc = document([(" ".join(["word"] * 50) + ".", "line 1")])
    chunks = chunk_document(doc, max_tokens=15, count_tokens=words)
    assert [c.tokens for c in chunks] == [15, 15, 15, 5]


def test_overlap_repeats_whole_sentences_and_stays_under_the_limit() -> None:
    first = "One two three. Four five six. Seven eight nine."
    doc = document([(first, "page 1"), (para(9, "x"), "page 2")])
    chunks = chunk_document(doc, max_tokens=12, count_tokens=words, overlap_tokens=3)
    assert len(chunks) == 2
    assert chunks[1].text.startswith("Seven eight nine.") and chunks[1].tokens <= 12
    assert chunks[1].location == "pages 1-2"


def test_small_tail_merges_and_tiny_documents_yield_nothing() -> None:
    doc = document([(para(30, "a"), "page 1"), (para(3, "b"), "page 2")])
    chunks = chunk_document(doc, max_tokens=40, count_tokens=words, min_tokens=5)
    assert len(chunks) == 1 and chunks[0].location == "pages 1-2"
    tiny = document([("2021 3 31", "page 1")])
    assert chunk_document(tiny, max_tokens=40, count_tokens=words, min_tokens=10) == []


def test_locations_and_sentences() -> None:
    assert span_location("sheet Exams row 4", "sheet Exams row 9") == "sheet Exams rows 4-9"
    assert span_location("slide 2", "page 3") == "slide 2 to page 3"
    text = "Is it? Yes! Done.\nNext line"
    assert [text[a:b] for a, b in sentence_spans(text)] == ["Is it?", "Yes!", "Done.", "Next line"]
