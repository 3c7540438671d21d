"""Question/answer columns in CSV/XLSX rows and document tables, and question-titled slides."""

from __future__ import annotations

import re
from dataclasses import dataclass

from src.detect.lines import Found, block_bounds, is_question, trim_span
from src.models import Block, Document

Q_NAMES = {"question", "questions", "q", "frage", "fragen", "pregunta", "preguntas", "query",
           "prompt", "faq", "question text", "user question", "customer question", "instruction",
           "input", "ask", "questao", "questão", "domanda", "vraag", "customer message",
           "user message", "inquiry", "enquiry", "customer inquiry", "customer enquiry",
           "customer request", "request text", "anfrage", "kundenanfrage", "consulta", "demande"}
A_NAMES = {"answer", "answers", "a", "response", "reply", "antwort", "antworten", "respuesta",
           "respuestas", "completion", "output", "answer text", "agent answer", "bot response",
           "resposta", "risposta", "antwoord", "réponse", "reponse", "solution", "agent reply",
           "agent response", "support reply", "support response", "staff reply", "first reply",
           "reply text", "response text", "respuesta del agente"}
# Names a ticket export gives the customer's text and the reply; weaker, so checked by content.
Q_WEAK = {"message", "description", "body", "issue", "problem", "complaint", "request", "text",
          "details", "nachricht", "beschreibung", "mensaje", "descripción", "descripcion"}
A_WEAK = {"resolution", "resolution notes", "resolution text", "comment from agent", "lösung",
          "resolución", "resolucion"}
MIN_TEXT_SHARE = 0.6  # share of a column's cells that must be text for it to hold messages
MIN_ASK_SHARE = 0.4  # share of cells with a question for a column to be recognised as questions
SAMPLE_ROWS = 200  # columns are judged on a table's first rows
MIN_CONTENT_ROWS = 3  # a table recognised by content alone has at least this many rows


def _words(name: str) -> list[str]:
    return re.sub(r"[_\-./]+", " ", name.strip().lower()).split()


def _column_score(name: str, names: set[str], weak: frozenset[str] | set[str] = frozenset()) -> int:
    """3 for a name in `names`, 2 when its first or last word is, 1 for a weak name, else 0."""
    words = _words(name)
    if not words or "html" in words or any(w.endswith("html") for w in words):
        return 0
    joined = " ".join(words)
    if joined in names:
        return 3
    if words[0] in names or words[-1] in names:
        return 2
    return 1 if joined in weak or words[-1] in weak else 0


def qa_columns(header: list[str] | None) -> tuple[int, int] | None:
    """Indices of the question and answer columns a header names (plain text over *_html)."""
    scored = _named(header)
    if scored is None or min(scored[0][0], scored[1][0]) < 2:
        return None
    return scored[0][1], scored[1][1]


def _named(header: list[str] | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """((score, index) of the best question column, (score, index) of the best answer column)."""
    if not header:
        return None
    best = []
    for names, weak in ((Q_NAMES, Q_WEAK), (A_NAMES, A_WEAK)):
        scored = [(_column_score(str(cell or ""), names, weak), -i) for i, cell in enumerate(header)]
        score, neg = max(scored)
        best.append((score, -neg))
    return (best[0], best[1]) if best[0][1] != best[1][1] else None


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


@dataclass
class Table:
    """Consecutive spreadsheet/CSV rows under one header (the header block, when there is one)."""

    header: list[str] | None
    rows: list[int]  # block indices
    header_block: int | None = None


def tables(doc: Document) -> list[Table]:
    """The row tables of a document, in order."""
    found: list[Table] = []
    for i, block in enumerate(doc.blocks):
        if block.kind != "row" or not block.cells:
            continue
        if found and found[-1].rows[-1] == i - 1 and found[-1].header == block.header:
            found[-1].rows.append(i)
            continue
        before = doc.blocks[i - 1] if i else None
        head = i - 1 if before is not None and before.kind == "table_row" \
            and before.cells == block.header else None
        found.append(Table(block.header, [i], head))
    return found


@dataclass
class Column:
    """What a column's cells look like, judged on a table's first rows."""

    text: float  # share of cells with three words or more
    asks: float  # share of cells holding a question
    words: float  # mean words per non-empty cell
    filled: float  # share of non-empty cells


def _column(cells: list[str]) -> Column:
    n = max(len(cells), 1)
    counts = [len(re.findall(r"[^\W\d_][\w'’-]*", c)) for c in cells]
    filled = [c for c in cells if c.strip()]
    return Column(sum(k >= 3 for k in counts) / n,
                  sum(1 for c in cells if "?" in c or is_question(c, 3)) / n,
                  sum(counts) / max(len(filled), 1), len(filled) / n)


def _profile(doc: Document, table: Table) -> list[Column]:
    rows = [doc.blocks[i].cells or [] for i in table.rows[:SAMPLE_ROWS]]
    width = max(len(r) for r in rows)
    return [_column([str(r[c] or "") if c < len(r) else "" for r in rows]) for c in range(width)]


def _content_question(columns: list[Column], before: int | None) -> int | None:
    """The text column that asks most (at least MIN_ASK_SHARE of its cells), left of `before`."""
    picks = [(col.asks, -c) for c, col in enumerate(columns[:before])
             if col.text >= MIN_TEXT_SHARE and col.asks >= MIN_ASK_SHARE]
    return -max(picks)[1] if picks else None


def _content_answer(columns: list[Column], question: int) -> int | None:
    """The next filled column right of the question, when it holds replies (text of 5+ words)."""
    right = next((c for c in range(question + 1, len(columns)) if columns[c].filled >= 0.5), None)
    if right is None:
        return None
    col = columns[right]
    return right if col.text >= MIN_TEXT_SHARE and col.words >= 5 else None


def choose_columns(doc: Document, table: Table) -> tuple[int, int, bool] | None:
    """(question column, answer column, header row is data): by header names, by content (the
    customer's messages ask; the replies are the next column), or both."""
    named = _named(table.header)
    (q_score, q), (a_score, a) = named if named else ((0, -1), (0, -1))
    if q_score >= 2 and a_score >= 2:
        return q, a, False
    columns = _profile(doc, table)
    if q_score == 0 or columns[q].text < MIN_TEXT_SHARE:
        q_found = _content_question(columns, a if a_score else None)
        if q_found is None:
            return None
        q = q_found
    if a_score == 0 or a <= q or columns[a].text < MIN_TEXT_SHARE:
        a_found = _content_answer(columns, q)
        if a_found is None:
            return None
        a = a_found
    unnamed = not named or (named[0][0] == 0 and named[1][0] == 0)
    if unnamed and len(table.rows) + (table.header_block is not None) < MIN_CONTENT_ROWS:
        return None
    return q, a, unnamed and _header_is_data(table.header, q, a)


def _header_is_data(header: list[str] | None, q: int, a: int) -> bool:
    """A first row that was taken for a header but is a question and its answer (no header row)."""
    if not header or max(q, a) >= len(header):
        return False
    return is_question(str(header[q]), 2) and len(str(header[a]).split()) >= 3


def detect_rows(doc: Document) -> list[Found]:
    """Spreadsheet/CSV rows whose question and answer columns are named or recognised by content,
    and table rows whose header names them."""
    found = []
    for table in tables(doc):
        columns = choose_columns(doc, table)
        if columns is None:
            continue
        q, a, header_is_data = columns
        indices = ([table.header_block] if header_is_data and table.header_block is not None
                   else []) + table.rows
        cursor = 0
        for i in indices:
            cells = doc.blocks[i].cells or []
            if max(q, a) < len(cells):
                item = _pair(doc, doc.blocks[i], (cells[q], cells[a]), cursor, "columns")
                if item:
                    found.append(item)
                    cursor = item.span[1]
    return found + _table_rows(doc) + _question_tables(doc)


def _table_rows(doc: Document) -> list[Found]:
    """Rows of document tables (DOCX, PDF) whose header row names a question and an answer column."""
    found = []
    cursor = 0
    for i, block in enumerate(doc.blocks):
        if block.kind != "table_row" or not block.cells:
            continue
        header = _table_header(doc, i)
        columns = qa_columns(header)
        if columns is None or block.cells == header or max(columns) >= len(block.cells):
            continue
        item = _pair(doc, block, (block.cells[columns[0]], block.cells[columns[1]]), cursor, "columns")
        if item:
            found.append(item)
            cursor = item.span[1]
    return found


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
