"""A fake agent LLM that writes grounded Q&A from the passage it is sent (for pipeline tests).

It plays the model's part through the fake provider server: a create request gets as many
conversations as it asks for, each asking about a sentence of the passage and answered with that
sentence and the next one, verbatim; free-mode requests get conversations of user/assistant turns.
So the quality stage sees well-grounded pairs, and tests can count exactly what the pipeline keeps.

`RealisticResponder` adds the habits of real models, each at a rate and seeded per request (the
same request always gets the same reply, whatever the order requests arrive in): numbering the
conversations from 0 or not usefully at all, echoing the passage's delimiters around an answer,
a label ("Answer: "), fewer conversations than asked, and now and then a figure that is not in the
passage (which the quality checks must reject).
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass

from tests.fake_llm_server import FakeRequest, example_for

PASSAGE = re.compile(r'"""\n(.*?)\n"""', re.S)
SENTENCE = re.compile(r"(?<=[.!?])\s+")
WANTED = re.compile(r"Write (?:up to )?(\d+) conversations")
PASS = re.compile(r"This is pass (\d+)")
TURNS = re.compile(r"each (\d+) questions asked in order")
DIGITS = re.compile(r"\d+")
ANSWER_SENTENCES = 2  # a grounded answer: the asked-about sentence and the one after it


def sentences(request: FakeRequest) -> list[str]:
    found = PASSAGE.search(request.user)
    text = found.group(1) if found else request.user
    parts = [s.strip() for s in SENTENCE.split(" ".join(text.split())) if len(s.split()) >= 4]
    return parts or [text.strip()]


def question_for(sentence: str) -> str:
    return "What does the guide say about " + " ".join(sentence.split()[:5]).rstrip(".,;:") + "?"


def _grounded(sentence: str, parts: list[str]) -> str:
    """The sentence asked about and the next one: an answer copied from the source."""
    start = parts.index(sentence)
    return " ".join(parts[start:start + ANSWER_SENTENCES])


def _keywords(text: str) -> list[str]:
    words = [w.strip(".,;:?!()").lower() for w in text.split()]
    return [w for w in words if len(w) > 5][:3] or ["general"]


def _is_create(props: dict) -> bool:
    items = props.get("conversations", {}).get("items", {})
    return "n" in items.get("properties", {})


@dataclass
class RealisticResponder:
    """The grounded model, with real models' habits at the given rates (0: never)."""

    seed: int = 0
    from_zero: float = 0.0  # conversations numbered from 0
    unnumbered: float = 0.0  # every conversation numbered 1
    delimiters: float = 0.0  # an answer wrapped in the passage's \"\"\" delimiters
    labels: float = 0.0  # an answer starting "Answer: "
    fewer: float = 0.0  # a reply with one or two conversations fewer than asked
    invented: float = 0.0  # an answer whose first figure is not the passage's

    def __call__(self, request: FakeRequest) -> dict | str:
        props = (request.schema or {}).get("properties", {})
        if "conversations" not in props:
            return example_for(request.schema)
        rng = random.Random(zlib.crc32(request.user.encode()) ^ self.seed)
        parts = sentences(request)
        wanted = int((WANTED.search(request.user) or [0, 3])[1])
        found_pass = PASS.search(request.user)
        pass_no = int(found_pass.group(1)) - 1 if found_pass else \
            int("earlier pass" in request.user)
        chosen = [parts[(j + pass_no * wanted) % len(parts)] for j in range(wanted)]
        if not _is_create(props):  # free mode: user/assistant turns
            return {"conversations": [
                {"turns": [{"role": "user", "content": question_for(s)},
                           {"role": "assistant", "content": _grounded(s, parts)}],
                 "topic_keywords": _keywords(s)} for s in chosen]}
        turns = int((TURNS.search(request.user) or [0, 1])[1])
        conversations = [self._conversation(n, s, parts, turns, rng)
                         for n, s in enumerate(chosen, start=1)]
        if rng.random() < self.fewer and len(conversations) > 2:
            del conversations[-rng.randint(1, 2):]
        self._number(conversations, rng)
        return {"conversations": conversations}

    def _conversation(self, n: int, sentence: str, parts: list[str], turns: int,
                      rng: random.Random) -> dict:
        start = parts.index(sentence)
        asked = [parts[(start + t) % len(parts)] for t in range(turns)]
        return {"n": n, "turns": [{"question": question_for(s),
                                   "answer": self._answer(_grounded(s, parts), rng)}
                                  for s in asked],
                "topic_keywords": _keywords(sentence)}

    def _answer(self, answer: str, rng: random.Random) -> str:
        if rng.random() < self.invented and DIGITS.search(answer):
            number = DIGITS.search(answer)
            assert number is not None
            answer = answer[:number.start()] + str(int(number.group()) * 10 + 7) + \
                answer[number.end():]
        if rng.random() < self.labels:
            answer = "Answer: " + answer
        if rng.random() < self.delimiters:
            answer = f'"""{answer}"""'
        return answer

    def _number(self, conversations: list[dict], rng: random.Random) -> None:
        draw = rng.random()
        if draw < self.from_zero:
            for conv in conversations:
                conv["n"] -= 1
        elif draw < self.from_zero + self.unnumbered:
            for conv in conversations:
                conv["n"] = 1


grounded_responder = RealisticResponder()  # the clean model: every habit off


def each_turn(reply: dict | str) -> list[dict]:
    """The {"question", "answer"} turns of a create reply, for tests that alter them."""
    if not isinstance(reply, dict):
        return []
    return [turn for conv in reply.get("conversations", []) for turn in conv.get("turns", [])
            if isinstance(turn, dict) and "answer" in turn]
