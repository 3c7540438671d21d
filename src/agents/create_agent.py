"""Create mode: grounded synthetic Q&A in two steps per chunk.

Step 1 asks for several questions a real user would ask that the chunk can answer (persona and question
type assigned per question). Step 2 answers all of them together from the same chunk only, and marks a
question unanswerable when the chunk does not contain the answer (such pairs are kept as rejected
`no_answer_in_context`, never exported). Two requests yield `questions_per_chunk` pairs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from src.agents.base_agent import AgentOutput, load_prompt, run_items, stable_id
from src.config import Config, CreateConfig
from src.errors import BadReply
from src.models import Chunk, Example, Turn

QUESTION_SCHEMA = {
    "type": "object",
    "properties": {"conversations": {"type": "array", "items": {
        "type": "object",
        "properties": {"questions": {"type": "array", "items": {"type": "string"}}},
        "required": ["questions"], "additionalProperties": False}}},
    "required": ["conversations"], "additionalProperties": False,
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answers": {"type": "array", "items": {
        "type": "object",
        "properties": {"index": {"type": "integer"}, "answerable": {"type": "boolean"},
                       "answers": {"type": "array", "items": {"type": "string"}},
                       "topic_keywords": {"type": "array", "items": {"type": "string"}}},
        "required": ["index", "answerable", "answers", "topic_keywords"],
        "additionalProperties": False}}},
    "required": ["answers"], "additionalProperties": False,
}
VARIETY_TEMPERATURE = {"low": 0.5, "medium": 0.85, "high": 1.0}  # multiplier of the temperature


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


def assignments(settings: CreateConfig, slot: Slot) -> list[Assignment]:
    """Deterministic persona/question-type per question, shaped by `variety`."""
    personas = settings.personas or ["user"]
    types = settings.question_types or ["factual"]
    if settings.variety == "low":
        personas, types = personas[:1], types[:1]
    elif settings.variety == "medium":
        personas, types = personas[:2], types[:3]
    k = settings.questions_per_chunk
    base = zlib.crc32(slot.chunk.id.encode()) + slot.pass_no * k
    return [Assignment(personas[(base + j) % len(personas)], types[(base + 2 * j) % len(types)])
            for j in range(k)]


def question_prompt(settings: CreateConfig, slot: Slot, plan: list[Assignment]) -> str:
    turns = settings.turns
    wanted = "\n".join(f"{j + 1}. persona: {a.persona}; question type: {a.question_type}"
                       for j, a in enumerate(plan))
    shape = ("one question" if turns == 1 else
             f"{turns} questions in order: an opening question and {turns - 1} natural follow-ups")
    avoid = ""
    if slot.avoid:
        listed = "\n".join(f"- {q}" for q in slot.avoid[:30])
        avoid = f"\nThe documents already answer these; do NOT ask them or close variants:\n{listed}\n"
    again = (f"\nThis is pass {slot.pass_no + 1} over this passage: ask about details the obvious "
             "first questions would miss.\n") if slot.pass_no else ""
    return (f"PASSAGE (from {slot.chunk.source_file}, {slot.chunk.location}):\n"
            f"\"\"\"\n{slot.chunk.text}\n\"\"\"\n\n"
            f"Write {len(plan)} conversations. For each, write {shape} that a real person would ask "
            f"and that this passage fully answers. Ask like that person would, in the passage's "
            f"language, without mentioning 'the passage' or 'the text'.\n{wanted}\n{avoid}{again}"
            "Return JSON: {\"conversations\": [{\"questions\": [...]}]} in the order above.")


def answer_prompt(slot: Slot, questions: list[list[str]]) -> str:
    listed = "\n".join(f"{i}. " + " || then: ".join(qs) for i, qs in enumerate(questions))
    return (f"PASSAGE:\n\"\"\"\n{slot.chunk.text}\n\"\"\"\n\nAnswer each numbered conversation "
            "using ONLY the passage. Each conversation has one or more questions asked in order "
            "(separated by '|| then:'); give one answer per question. Quote figures, dates, "
            "amounts and names exactly as the passage writes them. If the passage does not contain "
            "the answer, set answerable to false and leave answers empty. Add 2-5 topic keywords.\n"
            f"{listed}\n\nReturn JSON: {{\"answers\": [{{\"index\": 0, \"answerable\": true, "
            "\"answers\": [\"...\"], \"topic_keywords\": [\"...\"]}]}")


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

    async def _one(self, slot: Slot) -> list[Example]:
        plan = assignments(self.settings, slot)
        turns = self.settings.turns
        first = await self.client.complete_json(
            self.system, question_prompt(self.settings, slot, plan), QUESTION_SCHEMA,
            schema_name="questions", temperature=self.temperature,
            max_tokens=80 + 90 * len(plan) * turns)
        questions = _questions(first.data, len(plan), turns)
        second = await self.client.complete_json(
            self.system, answer_prompt(slot, questions), ANSWER_SCHEMA, schema_name="answers",
            temperature=min(self.temperature, 0.3), max_tokens=120 + 320 * len(questions) * turns)
        return self._examples(slot, plan, questions, second.data)

    def _examples(self, slot: Slot, plan: list[Assignment], questions: list[list[str]],
                  data: dict) -> list[Example]:
        by_index = {a.get("index"): a for a in data.get("answers", []) if isinstance(a, dict)}
        examples = []
        for i, qs in enumerate(questions):
            reply = by_index.get(i) or {"answerable": False, "answers": [], "topic_keywords": []}
            answers = [str(a).strip() for a in reply.get("answers", [])][:len(qs)]
            turns = [t for q, a in zip(qs, answers) for t in (Turn("user", q), Turn("assistant", a))]
            example = Example(
                id=stable_id(self.mode, slot.id, i), turns=turns or [Turn("user", qs[0])],
                mode=self.mode, origin="synthetic", source_file=slot.chunk.source_file,
                location=slot.chunk.location, chunk_id=slot.chunk.id, context=slot.chunk.text,
                topic_keywords=[str(k).strip().lower() for k in reply.get("topic_keywords", [])][:5],
                persona=plan[i].persona if i < len(plan) else "",
                question_type=plan[i].question_type if i < len(plan) else "")
            if not reply.get("answerable") or len(answers) < len(qs) or not all(answers):
                example.reasons.append("no_answer_in_context")
                example.notes.append("the agent found no answer to this question in the chunk")
            examples.append(example)
        return examples


def _questions(data: dict, expected: int, turns: int) -> list[list[str]]:
    """The question lists from a step-1 reply; raises BadReply when there are none usable."""
    result = []
    for conv in data.get("conversations", [])[:expected]:
        qs = [str(q).strip() for q in (conv.get("questions") or []) if str(q).strip()]
        if qs:
            result.append(qs[:turns])
    if not result:
        raise BadReply("the agent returned no usable questions for this chunk")
    return result
