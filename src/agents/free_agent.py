"""Free mode: the user's own instructions drive the agent over the same chunks.

Instructions come from prompts/free_mode/prompt.txt (config agent.free.prompt_file) or, when that is
missing or empty, are typed in the menu. Whatever they ask, the reply must be conversations that
alternate user/assistant, start with the user and end with the assistant; anything else is rejected
as malformed_output. Quality scoring later checks grounding like any other sample.
"""

from __future__ import annotations

from src.agents.base_agent import AgentOutput, WriterRequest, run_items, stable_id
from src.agents.create_agent import (
    REPLY_TOKENS,
    WRITER_SCHEMA,
    Slot,
    passage_prefix,
    questions_for,
)
from src.config import Config, project_path
from src.models import Example, Turn
from src.utils.text import strip_quoting

FREE_SCHEMA = {
    "type": "object",
    "properties": {"conversations": {"type": "array", "items": {
        "type": "object",
        "properties": {
            "turns": {"type": "array", "items": {
                "type": "object",
                "properties": {"role": {"type": "string", "enum": ["user", "assistant"]},
                               "content": {"type": "string"}},
                "required": ["role", "content"], "additionalProperties": False}},
            "topic_keywords": {"type": "array", "items": {"type": "string"}}},
        "required": ["turns", "topic_keywords"], "additionalProperties": False}}},
    "required": ["conversations"], "additionalProperties": False,
}
FREE_TURN_TOKENS = 400  # max_tokens per conversation turn pair: the user's format may be long
RULES = ("You write fine-tuning conversations from a passage of the user's documents, following the "
         "user's instructions below. Use only facts from the passage. Each conversation alternates "
         "user and assistant turns, starts with the user and ends with the assistant.\n\n"
         "USER'S INSTRUCTIONS:\n")


def load_free_prompt(config: Config) -> str | None:
    """The free-mode instructions from the prompt file, or None when it is missing or empty."""
    if not config.agent.free.use_prompt_file:
        return None
    path = project_path(config.agent.free.prompt_file)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def save_free_prompt(config: Config, text: str) -> str:
    """Write instructions typed in the menu to the prompt file; returns its path."""
    path = project_path(config.agent.free.prompt_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return str(path)


def well_formed(turns: list[Turn]) -> bool:
    """User first, assistant last, strictly alternating, no empty turn."""
    if len(turns) < 2 or turns[0].role != "user" or turns[-1].role != "assistant":
        return False
    alternating = all(a.role != b.role for a, b in zip(turns, turns[1:]))
    return alternating and all(t.content.strip() for t in turns)


class FreeAgent:
    """Runs the user's instructions over chunks through the agent LLM client."""

    mode = "free"

    def __init__(self, config: Config, client, instructions: str):
        self.config = config
        self.client = client
        self.system = RULES + instructions.strip()

    async def run(self, slots: list[Slot], on_done=None) -> AgentOutput:
        output = AgentOutput()
        await run_items(slots, self._one, lambda s: s.id, output, on_done, self.mode)
        return output

    def request(self, slot: Slot) -> WriterRequest:
        """What is sent for `slot` (see CreateAgent.request)."""
        per_chunk = questions_for(slot.chunk, self.config.agent.create.questions_per_chunk)
        user = (passage_prefix(slot.chunk) + f"Write up to {per_chunk} conversations"
                f"{' different from an earlier pass' if slot.pass_no else ''}. Return JSON: "
                "{\"conversations\": [{\"turns\": [{\"role\": \"user\", \"content\": \"...\"}, "
                "{\"role\": \"assistant\", \"content\": \"...\"}], \"topic_keywords\": [\"...\"]}]}")
        return WriterRequest(self.system, user, FREE_SCHEMA, WRITER_SCHEMA,
                             self.config.agent.create.temperature,
                             REPLY_TOKENS + FREE_TURN_TOKENS * per_chunk
                             * self.config.agent.create.turns, per_chunk)

    async def _one(self, slot: Slot) -> list[Example]:
        request = self.request(slot)
        reply = await self.client.complete_json(*request.args(), **request.kwargs())
        per_chunk = request.asked
        examples = []
        for i, conv in enumerate(reply.data.get("conversations", [])[:per_chunk]):
            turns = [Turn(str(t.get("role", "")), strip_quoting(str(t.get("content", ""))))
                     for t in conv.get("turns", []) if isinstance(t, dict)]
            example = Example(
                id=stable_id("free", slot.id, i), turns=turns or [Turn("user", "")], mode="free",
                origin="synthetic", source_file=slot.chunk.source_file,
                location=slot.chunk.location, chunk_id=slot.chunk.id, context=slot.chunk.text,
                topic_keywords=[str(k).lower() for k in conv.get("topic_keywords", [])][:5])
            if not well_formed(turns):
                example.reasons.append("malformed_output")
                example.notes.append("turns must alternate user/assistant, user first, "
                                     "assistant last, none empty")
            examples.append(example)
        return examples
