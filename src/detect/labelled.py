"""Explicitly labelled pairs: Q:/A:, Question:/Answer:, **Question**:, Q1./A1., '3. ...?' + 'A) ...'."""

from __future__ import annotations

import re

from src.detect.lines import Found, Line, heading_text, is_question, trim_span

_B = r"(?:\*\*|__)?"
Q_MARK = re.compile(
    rf"^{_B}(?:Q|Ques|Question|Frage|Pregunta)\s*(?:#?\d{{1,3}})?\s*{_B}\s*[:.)]\s*{_B}\s*(?=\S)",
    re.IGNORECASE)
A_MARK = re.compile(
    rf"^{_B}(?:A|Ans|Answer|Antwort|Respuesta|R[ée]ponse)\s*(?:#?\d{{1,3}})?\s*{_B}\s*[:.)]\s*{_B}\s*",
    re.IGNORECASE)
NUMBERED = re.compile(r"^(?:\d{1,3}[.)]|\(\d{1,3}\))\s+(?=\S)")
OPTION_B = re.compile(r"^\(?[Bb][).:]\s")
MAX_QUESTION_LINES = 4


def question_start(line: Line) -> int | None:
    """Offset (in the line) where the question text begins, when the line opens a question."""
    match = Q_MARK.match(line.text)
    if match and not A_MARK.match(line.text):
        return match.end()
    match = NUMBERED.match(line.text)
    if match and is_question(line.text[match.end():], 2):
        return match.end()
    return None


def _answer_mark(line: Line) -> int | None:
    match = A_MARK.match(line.text)
    return match.end() if match and line.text[match.end():].strip() else None


def _is_stop(line: Line) -> bool:
    return (question_start(line) is not None or A_MARK.match(line.text) is not None
            or heading_text(line) is not None)


def _find_answer(lines: list[Line], i: int) -> int | None:
    """Index of the answer-marker line that closes the question opened at lines[i]."""
    for j in range(i + 1, min(i + 1 + MAX_QUESTION_LINES, len(lines))):
        if _answer_mark(lines[j]) is not None:
            return j
        if _is_stop(lines[j]):
            return None
    return None


def _answer_end(lines: list[Line], j: int) -> int:
    """Index after the last line of the answer that starts at lines[j]."""
    k = j + 1
    while k < len(lines) and not _is_stop(lines[k]):
        k += 1
    return k


def _continues(first: Line, nxt: Line) -> bool:
    """Whether a later block plausibly continues an answer (a list after 'as follows:' etc.)."""
    return nxt.kind == "list_item" or bool(re.match(r"^([-*•]|\d{1,2}[.)])\s", nxt.text)) \
        or first.text.endswith(":")


def _trim_last(lines: list[Line], j: int, k: int, multi_block_seen: bool) -> int:
    """Cut the last answer of a run at its first block unless the next blocks continue it."""
    if multi_block_seen:
        return k
    end = j + 1
    while end < k and (lines[end].block == lines[j].block
                       or _continues(lines[end - 1], lines[end])):
        end += 1
    return end


def _is_options(lines: list[Line], j: int) -> bool:
    """'A) Paris / B) London': multiple-choice options, not an answer."""
    return j + 1 < len(lines) and OPTION_B.match(lines[j + 1].text) is not None


def _pairs(lines: list[Line]) -> list[tuple[int, int, int, bool]]:
    """(question index, answer index, end index, last of run) for every labelled pair."""
    pairs = []
    i = 0
    while i < len(lines):
        if question_start(lines[i]) is None or (j := _find_answer(lines, i)) is None:
            i += 1
            continue
        k = _answer_end(lines, j)
        last = k >= len(lines) or question_start(lines[k]) is None
        if not _is_options(lines, j):
            pairs.append((i, j, k, last))
        i = k
    return pairs


def detect_labelled(text: str, lines: list[Line]) -> list[Found]:
    """Find Q:/A:-style pairs; answers run until the next question, answer mark or heading."""
    pairs = _pairs(lines)
    multi = any(lines[k - 1].block != lines[j].block for _, j, k, last in pairs if not last)
    found = []
    for i, j, k, last in pairs:
        if last:
            k = _trim_last(lines, j, k, multi)
        q_span = trim_span(text, lines[i].start + (question_start(lines[i]) or 0), lines[j - 1].end)
        a_span = trim_span(text, lines[j].start + (_answer_mark(lines[j]) or 0), lines[k - 1].end)
        if q_span[0] >= q_span[1] or a_span[0] >= a_span[1]:
            continue
        found.append(Found([("user", [q_span]), ("assistant", [a_span])],
                           (lines[i].start, lines[k - 1].end), lines[i].location, "labelled"))
    return found
