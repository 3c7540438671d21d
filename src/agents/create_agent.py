"""Create mode: grounded synthetic Q&A, one request per chunk pass.

One request shows the agent a passage and asks for as many conversations as the passage can answer
well: the number is decided from the passage (`questions_for`: one per MAX_PASSES sentences that
state something, at most `agent.create.questions_per_chunk`), each with its persona and question
type, every question answered in the same reply from the passage alone. The passage opens the
request (after the system text), so every pass over a chunk starts with the same text and the
providers' prompt caching applies to it.

Why one request and not two (questions, then answers): the passage is sent once instead of twice,
so a pair costs about half the tokens; a chunk's pairs come back together, so a budget stop can
never leave questions without answers; and a Batch API run needs one round, not two. Grounding is
checked after the reply exactly as before: every figure, name and product code must be in the
passage, the answer's claims must be supported by it, the question must be about it
(src/quality), and the agent is told to write fewer conversations rather than guess.

Replies are read the way real models write them: conversations are matched to what was asked by
their number `n` (from 1 as asked, or from 0), and by order when the numbers do not fit; quoting
delimiters ("\"\"\"", ```) and "Q:"/"A:" labels are stripped; a reply with fewer conversations
than asked keeps those it has.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from src.agents.base_agent import AgentOutput, WriterRequest, load_prompt, run_items, stable_id
from src.config import Config, CreateConfig
from src.errors import BadReply
from src.models import Chunk, Example, Turn
from src.quality.facts import content_words, pieces, tokenize
from src.utils.text import strip_quoting

MAX_PASSES = 3  # how many times create mode may go back over the same chunk with new questions
FACT_WORDS = 4  # content words that make a sentence (or line) a statement worth a question
CREATE_SCHEMA = {
    "type": "object",
    "properties": {"conversations": {"type": "array", "items": {
        "type": "object",
        "properties": {"n": {"type": ["integer", "null"]},  # left out: matched by order
                       "turns": {"type": "array", "items": {
                           "type": "object",
                           "properties": {"question": {"type": "string"},
                                          "answer": {"type": "string"}},
                           "required": ["question", "answer"], "additionalProperties": False}},
                       "topic_keywords": {"type": "array", "items": {"type": "string"}}},
        "required": ["n", "turns", "topic_keywords"], "additionalProperties": False}}},
    "required": ["conversations"], "additionalProperties": False,
}
WRITER_SCHEMA = "conversations"  # the schema name of a writing agent's request (create, free)
VARIETY_TEMPERATURE = {"low": 0.5, "medium": 0.85, "high": 1.0}  # multiplier of the temperature
REPLY_TOKENS = 60  # max_tokens: the reply's JSON frame ...
TURN_TOKENS = 260  # ... plus this per question and answer (a long answer fits)


@dataclass
class Slot:
    """One unit of create work: a chunk on a given pass (pass > 0 asks new, different questions)."""

    chunk: Chunk
    pass_no: int = 0
    avoid: tuple[str, ...] = ()  # questions the documents already answer (hybrid mode)

    @property
    def id(self) -> str:
        return f"{self.chunk.id}@{self.pass_no}"


@dataclass
class Assignment:
    persona: str
    question_type: str


def facts_in(text: str) -> int:
    """Sentences and lines of `text` that state something (FACT_WORDS content words or more)."""
    return sum(len(content_words(tokenize(text[s:e]))) >= FACT_WORDS for s, e in pieces(text))


def questions_for(chunk: Chunk, most: int) -> int:
    """How many questions one request asks about `chunk`: its statements spread over MAX_PASSES
    passes, at least one, at most `most` (agent.create.questions_per_chunk)."""
    return max(1, min(most, math.ceil(facts_in(chunk.text) / MAX_PASSES)))


def chunk_capacity(chunk: Chunk, most: int) -> int:
    """The most pairs create mode asks about `chunk` over all its passes."""
    return questions_for(chunk, most) * MAX_PASSES


def assignments(settings: CreateConfig, slot: Slot) -> list[Assignment]:
    """Deterministic persona/question-type per question, shaped by `variety`."""
    personas = settings.personas or ["user"]
    types = settings.question_types or ["factual"]
    if settings.variety == "low":
        personas, types = personas[:1], types[:1]
    elif settings.variety == "medium":
        personas, types = personas[:2], types[:3]
    k = questions_for(slot.chunk, settings.questions_per_chunk)
    base = zlib.crc32(slot.chunk.id.encode()) + slot.pass_no * k
    return [Assignment(personas[(base + j) % len(personas)], types[(base + 2 * j) % len(types)])
            for j in range(k)]


def passage_prefix(chunk: Chunk) -> str:
    """The start of every request about `chunk`: the same text on every pass (prompt caching)."""
    return f"PASSAGE (from {chunk.source_file}, {chunk.location}):\n\"\"\"\n{chunk.text}\n\"\"\"\n\n"


def create_prompt(settings: CreateConfig, slot: Slot, plan: list[Assignment]) -> str:
    turns = settings.turns
    shape = ("one question and its answer" if turns == 1 else
             f"{turns} questions asked in order (an opening question and {turns - 1} natural "
             "follow-ups), each with its answer")
    wanted = "\n".join(f"{j}. {a.persona}; {a.question_type}" for j, a in enumerate(plan, start=1))
    avoid = ""
    if slot.avoid:
        listed = "\n".join(f"- {q}" for q in slot.avoid[:30])
        avoid = f"\nThe documents already answer these; do NOT ask them or close variants:\n{listed}\n"
    again = (f"\nThis is pass {slot.pass_no + 1} over this passage: ask about details the obvious "
             "first questions would miss.\n") if slot.pass_no else ""
    return (passage_prefix(slot.chunk)
            + f"Write {len(plan)} conversations, each {shape}, about different facts of this "
            "passage. Ask as the person named would, in the passage's language, without "
            "mentioning 'the passage' or 'the text'. Answer from the passage alone, fully, "
            "copying figures, dates, amounts, names and product codes exactly as written. Write "
            "fewer conversations rather than guess.\n"
            f"n. who asks; kind of question:\n{wanted}\n{avoid}{again}"
            "Return JSON: {\"conversations\": [{\"n\": 1, \"turns\": [{\"question\": \"...\", "
            "\"answer\": \"...\"}], \"topic_keywords\": [\"...\"]}]}")


def matched(items: list, count: int) -> list[tuple[int, dict]]:
    """(position in what was asked, item) for each usable item of a reply: by its number `n`
    (from 1 as asked, or from 0), by order when the numbers do not fit (missing, repeated, out
    of range); items beyond `count` are left out."""
    items = [item for item in items if isinstance(item, dict)]
    numbers = [item.get("n") for item in items]
    whole = all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
    if whole and len(set(numbers)) == len(numbers) and numbers:
        if 0 in numbers and all(0 <= n < count for n in numbers):
            return sorted((n, item) for n, item in zip(numbers, items))
        if all(1 <= n <= count for n in numbers):
            return sorted((n - 1, item) for n, item in zip(numbers, items))
    return list(enumerate(items[:count]))


class CreateAgent:
    """Generates grounded Q&A from chunks through the agent LLM client."""

    mode = "create"

    def __init__(self, config: Config, client, mode: str = "create"):
        self.config = config
        self.settings = config.agent.create
        self.client = client
        self.mode = mode
        system_file = "system/hybrid_mode.txt" if mode == "hybrid" else "system/create_mode.txt"
        self.system = load_prompt(system_file)

    @property
    def temperature(self) -> float:
        return min(2.0, self.settings.temperature * VARIETY_TEMPERATURE[self.settings.variety])

    async def run(self, slots: list[Slot], on_done=None) -> AgentOutput:
        output = AgentOutput()
        await run_items(slots, self._one, lambda s: s.id, output, on_done, self.mode)
        return output

    def request(self, slot: Slot) -> WriterRequest:
        """What is sent for `slot` (a function of the slot and the config only: resume and the
        estimate see the same request)."""
        plan = assignments(self.settings, slot)
        return WriterRequest(self.system, create_prompt(self.settings, slot, plan), CREATE_SCHEMA,
                             "conversations", self.temperature,
                             REPLY_TOKENS + TURN_TOKENS * len(plan) * self.settings.turns,
                             len(plan))

    async def _one(self, slot: Slot) -> list[Example]:
        plan = assignments(self.settings, slot)
        request = self.request(slot)
        reply = await self.client.complete_json(*request.args(), **request.kwargs())
        found = matched(reply.data.get("conversations", []), len(plan))
        if not found:
            raise BadReply("the agent returned no conversations for this passage")
        return [self._example(slot, i, plan[i], conv) for i, conv in found]

    def _example(self, slot: Slot, i: int, asked: Assignment, conv: dict) -> Example:
        pairs = [(strip_quoting(str(t.get("question", ""))),
                  strip_quoting(str(t.get("answer", ""))))
                 for t in conv.get("turns", []) if isinstance(t, dict)][:self.settings.turns]
        turns = [t for q, a in pairs for t in (Turn("user", q), Turn("assistant", a))]
        example = Example(
            id=stable_id(self.mode, slot.id, i), turns=turns or [Turn("user", "")],
            mode=self.mode, origin="synthetic", source_file=slot.chunk.source_file,
            location=slot.chunk.location, chunk_id=slot.chunk.id, context=slot.chunk.text,
            topic_keywords=[str(k).strip().lower() for k in conv.get("topic_keywords", [])][:5],
            persona=asked.persona, question_type=asked.question_type)
        if not pairs or not all(q for q, _ in pairs):
            example.reasons.append("malformed_output")
            example.notes.append("the agent's conversation has no question")
        elif not all(a for _, a in pairs):
            example.reasons.append("no_answer_in_context")
            example.notes.append("the agent left an answer empty")
        return example
