"""A fake agent LLM that writes grounded Q&A from the passage it is sent (for pipeline tests).

It plays the model's part through the fake provider server: step-1 replies ask about sentences of
the passage, step-2 replies answer with those sentences verbatim, free-mode replies do both. So the
quality stage sees well-grounded pairs, and tests can count exactly what the pipeline should keep.
"""

from __future__ import annotations

import re

from tests.fake_llm_server import FakeRequest, example_for

PASSAGE = re.compile(r'"""\n(.*?)\n"""', re.S)
SENTENCE = re.compile(r"(?<=[.!?])\s+")
WANTED = re.compile(r"Write (?:up to )?(\d+) conversations")
NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.M)
PASS = re.compile(r"This is pass (\d+)")
TURNS = re.compile(r"write (\d+) questions in order")
ANSWER_SENTENCES = 2  # a grounded answer: the asked-about sentence and the one after it


def sentences(request: FakeRequest) -> list[str]:
    found = PASSAGE.search(request.user)
    text = found.group(1) if found else request.user
    parts = [s.strip() for s in SENTENCE.split(" ".join(text.split())) if len(s.split()) >= 4]
    return parts or [text.strip()]


def question_for(sentence: str) -> str:
    return "What does the guide say about " + " ".join(sentence.split()[:5]).rstrip(".,;:") + "?"


def grounded_responder(request: FakeRequest) -> dict:
    """Decide the reply by the schema the agent asked for."""
    props = (request.schema or {}).get("properties", {})
    parts = sentences(request)
    wanted = int((WANTED.search(request.user) or [0, 3])[1])
    found_pass = PASS.search(request.user)
    pass_no = int(found_pass.group(1)) - 1 if found_pass else int("earlier pass" in request.user)
    chosen = [parts[(j + pass_no * wanted) % len(parts)] for j in range(wanted)]
    if "answers" in props:
        return {"answers": [_answer(int(i), q, parts)
                            for i, q in NUMBERED.findall(request.user)]}
    if "conversations" in props and "turns" in str(props):
        return {"conversations": [{"turns": [{"role": "user", "content": question_for(s)},
                                             {"role": "assistant", "content": _grounded(s, parts)}],
                                   "topic_keywords": _keywords(s)} for s in chosen]}
    if "conversations" in props:
        turns = int((TURNS.search(request.user) or [0, 1])[1])
        return {"conversations": [{"questions": [question_for(parts[(parts.index(s) + t) % len(parts)])
                                                 for t in range(turns)]} for s in chosen]}
    return example_for(request.schema)


def _answer(index: int, line: str, parts: list[str]) -> dict:
    """Answer each question of a conversation (separated by '|| then:') from its sentence."""
    by_question = {question_for(s): s for s in parts}
    matches = [by_question.get(q.strip()) for q in line.split(" || then:")]
    found = all(matches)
    return {"index": index, "answerable": found,
            "answers": [_grounded(m, parts) for m in matches] if found else [],
            "topic_keywords": _keywords(matches[0] or line)}


def _grounded(sentence: str, parts: list[str]) -> str:
    """The sentence asked about and the next one: an answer copied from the source."""
    start = parts.index(sentence)
    return " ".join(parts[start:start + ANSWER_SENTENCES])


def _keywords(text: str) -> list[str]:
    words = [w.strip(".,;:?!()").lower() for w in text.split()]
    return [w for w in words if len(w) > 5][:3] or ["general"]
