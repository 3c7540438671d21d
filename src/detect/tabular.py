"""Question/answer columns in CSV/XLSX rows and document tables, and question-titled slides."""

from __future__ import annotations

import re

from src.detect.lines import Found, block_bounds, is_question, trim_span
from src.models import Block, Document

Q_NAMES = {"question", "questions", "q", "frage", "fragen", "pregunta", "preguntas", "query",
           "prompt", "faq", "question text", "user question", "customer question", "instruction",
           "input", "ask", "questao", "questão", "domanda", "vraag"}
A_NAMES = {"answer", "answers", "a", "response", "reply", "antwort", "antworten", "respuesta",
           "respuestas", "completion", "output", "answer text", "agent answer", "bot response",
           "resposta", "risposta", "antwoord", "réponse", "reponse", "solution"}


def _column_score(name: str, names: set[str]) -> int:
    words = re.sub(r"[_\-./]+", " ", name.strip().lower()).split()
    if not words or "html" in words or any(w.endswith("html") for w in words):
        return 0
    joined = " ".join(words)
    if joined in names:
        return 3
    return 2 if words[0] in names or words[-1] in names else 0


def qa_columns(header: list[str] | None) -> tuple[int, int] | None:
    """Indices of the question and answer columns of a header row (plain text over *_html)."""
    if not header:
        return None
    best = []
    for names in (Q_NAMES, A_NAMES):
        scored = [(_column_score(str(cell or ""), names), -i) for i, cell in enumerate(header)]
        score, neg = max(scored)
        if score == 0:
            return None
        best.append(-neg)
    return (best[0], best[1]) if best[0] != best[1] else None


def locate(text: str, needle: str, start: int, end: int) -> tuple[int, int] | None:
    """Span of `needle` in text[start:end], exact or with any run of whitespace matching."""
    needle = needle.strip()
    if not needle:
        return None
    at = text.find(needle, start, end)
    if at >= 0:
        return at, at + len(needle)
    pattern = r"\s+".join(re.escape(word) for word in needle.split())
    match = re.compile(pattern).search(text, start, end)
    return match.span() if match else None


def _looks_like_text(cell: str) -> bool:
    return sum(ch.isalpha() for ch in cell) >= 3


def _pair(doc: Document, block: Block, cells: tuple[str, str], cursor: int,
          pattern: str) -> Found | None:
    question, answer = (str(c or "").strip() for c in cells)
    if not (_looks_like_text(question) and _looks_like_text(answer)):
        return None
    start, end = block_bounds(doc, block, cursor)
    q_span = locate(doc.text, question, start, end)
    a_span = locate(doc.text, answer, q_span[1] if q_span else start, end) or \
        locate(doc.text, answer, start, end)
    if not q_span or not a_span:
        return None  # cannot point at the verbatim text: never guess
    q_span, a_span = trim_span(doc.text, *q_span), trim_span(doc.text, *a_span)
    return Found([("user", [q_span]), ("assistant", [a_span])], (start, end), block.location,
                 pattern)


def _table_header(doc: Document, i: int) -> list[str] | None:
    """The first row of the run of table_row blocks that block i belongs to."""
    while i > 0 and doc.blocks[i - 1].kind == "table_row":
        i -= 1
    return doc.blocks[i].cells


def detect_rows(doc: Document) -> list[Found]:
    """Spreadsheet/CSV rows and table rows whose header names a question and an answer column."""
    found = []
    cursor = 0
    for i, block in enumerate(doc.blocks):
        if block.kind not in ("row", "table_row") or not block.cells:
            continue
        header = block.header if block.kind == "row" else _table_header(doc, i)
        columns = qa_columns(header)
        if columns is None or block.cells == header or max(columns) >= len(block.cells):
            continue
        item = _pair(doc, block, (block.cells[columns[0]], block.cells[columns[1]]), cursor, "columns")
        if item:
            found.append(item)
            cursor = item.span[1]
    return found + _question_tables(doc)


def _question_tables(doc: Document) -> list[Found]:
    """Header-less two-column tables whose left cells are questions (2 or more of them)."""
    found = []
    cursor = 0
    for i, block in enumerate(doc.blocks):
        cells = block.cells or []
        if block.kind != "table_row" or len(cells) != 2 or qa_columns(_table_header(doc, i)):
            continue
        if str(cells[0]).strip().endswith("?") and is_question(str(cells[0]), 2) \
                and not is_question(str(cells[1])):
            item = _pair(doc, block, (cells[0], cells[1]), cursor, "table")
            if item:
                found.append(item)
                cursor = item.span[1]
    return found if len(found) >= 2 else []


def detect_slides(doc: Document) -> list[Found]:
    """A slide title that is a question, with the slide's body text as the answer."""
    found = []
    blocks = doc.blocks
    for i, block in enumerate(blocks):
        if block.kind != "title" or not is_question(block.text, 2):
            continue
        k = i + 1
        while k < len(blocks) and blocks[k].kind == "body" and blocks[k].location == block.location:
            k += 1
        if k == i + 1:
            continue
        q_span = trim_span(doc.text, *block_bounds(doc, block, 0))
        a_span = trim_span(doc.text, block_bounds(doc, blocks[i + 1], q_span[1])[0],
                           block_bounds(doc, blocks[k - 1], q_span[1])[1])
        if a_span[0] < a_span[1]:
            found.append(Found([("user", [q_span]), ("assistant", [a_span])],
                               (q_span[0], a_span[1]), block.location, "slide"))
    return found
