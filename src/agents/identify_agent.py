"""Identify mode: conversations that already exist in the documents, extracted verbatim.

Stage 1 (always, no API key): the deterministic patterns of `conversation_detector`.
Stage 2 (only with `agent.identify.use_llm`): passages that look like they hold a conversation (a '?'
in a block no pattern claimed) go to the agent LLM, which must quote the turns exactly. A quoted turn
is kept only when it is found in the passage (whitespace-normalised); its text is then cut from the
document itself, never taken from the reply. Invented or reworded turns are dropped.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import Counter
from typing import Any

from tqdm import tqdm

from src.agents.base_agent import client_for, load_prompt
from src.config import Config
from src.detect.conversations import detect, to_example
from src.detect.lines import Found, norm
from src.detect.tabular import locate
from src.errors import AuthError, BudgetExhausted, ProviderError
from src.models import Document, Example

log = logging.getLogger(__name__)
PROMPT_FILE = "system/identify_mode.txt"
MAX_PASSAGE_CHARS = 2500  # one stage-2 request looks at about this much text
MAX_PASSAGES_PER_DOCUMENT = 20  # cost guard: later ambiguous passages of a file are skipped
REPLY_MAX_TOKENS = 1500
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"conversations": {"type": "array", "items": {
        "type": "object",
        "properties": {"turns": {"type": "array", "items": {
            "type": "object",
            "properties": {"role": {"type": "string", "enum": ["user", "assistant"]},
                           "text": {"type": "string"}},
            "required": ["role", "text"], "additionalProperties": False}}},
        "required": ["turns"], "additionalProperties": False}}},
    "required": ["conversations"], "additionalProperties": False,
}
USER_TEMPLATE = """Passage from {file} ({location}):
<<<
{passage}
>>>
List every conversation that exists in this passage (question and answer, interview, chat). For each
turn give its role (user = the one who asks, assistant = the one who answers) and its text copied
exactly from the passage, without labels such as "Q:" or speaker names. Return an empty list when the
passage holds no conversation."""


class IdentifyAgent:
    """Finds existing conversations in documents (stage 1 patterns, optional stage 2 LLM)."""

    def __init__(self, config: Config, client: Any = None):
        self.config = config
        self.settings = config.agent.identify
        self.client = client
        self.stats: Counter[str] = Counter()
        self.system_prompt = load_prompt(PROMPT_FILE) if self.settings.use_llm else ""

    def run(self, documents: list[Document]) -> list[Example]:
        """Examples from every document. With stage 2 on inside a running event loop this returns
        an awaitable instead: await it (or call `arun`)."""
        if not self.settings.use_llm:
            return [ex for doc in self._progress(documents) for ex in self.stage1(doc)]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(documents))
        return self.arun(documents)  # type: ignore[return-value]

    async def arun(self, documents: list[Document]) -> list[Example]:
        """Stage 1 over every document, then stage 2 over its ambiguous passages when enabled."""
        examples: list[Example] = []
        for doc in self._progress(documents):
            found = self.stage1(doc)
            examples.extend(found)
            if self.settings.use_llm and self.stats["stage2_stopped"] == 0:
                examples.extend(await self.stage2(doc, found))
        return examples

    def stage1(self, doc: Document) -> list[Example]:
        """Deterministic patterns; identical conversations within one document are kept once."""
        examples = _dedupe(detect(doc, min_turns=self.settings.min_turns,
                                  include_context=self.settings.include_context))
        self.stats["documents"] += 1
        self.stats["stage1_examples"] += len(examples)
        return examples

    def stage1_all(self, documents: list[Document]) -> list[Example]:
        """Stage 1 over every document (what the patterns find without the LLM)."""
        return [ex for doc in documents for ex in self.stage1(doc)]

    async def stage2(self, doc: Document, known: list[Example]) -> list[Example]:
        """Ask the agent LLM about passages with a '?' that no pattern claimed; keep verbatim turns."""
        passages = ambiguous_passages(doc, [ex.span for ex in known if ex.span])
        if not passages:
            return []
        self.client = self.client or client_for(self.config, None)
        replies = await asyncio.gather(*(self._ask(doc, span) for span in passages))
        seen = {_key(ex) for ex in known}
        examples = []
        for span, data in zip(passages, replies):
            for example in self._accept(doc, span, data):
                if _key(example) not in seen:
                    seen.add(_key(example))
                    examples.append(example)
        self.stats["stage2_examples"] += len(examples)
        return examples

    async def _ask(self, doc: Document, span: tuple[int, int]) -> dict:
        user = USER_TEMPLATE.format(file=doc.path, location=location_at(doc, span[0]),
                                    passage=doc.text[span[0]:span[1]])
        self.stats["stage2_requests"] += 1
        try:
            reply = await self.client.complete_json(
                self.system_prompt, user, SCHEMA, schema_name="identified_conversations",
                temperature=0, max_tokens=REPLY_MAX_TOKENS)
        except (AuthError, BudgetExhausted) as exc:
            self.stats["stage2_stopped"] += 1
            log.warning("Stage 2 of identify stopped: %s", exc)
            return {}
        except ProviderError as exc:
            self.stats["stage2_failures"] += 1
            log.warning("Stage 2 request for %s failed: %s", doc.path, exc)
            return {}
        return reply.data if isinstance(reply.data, dict) else {}

    def _accept(self, doc: Document, span: tuple[int, int], data: dict) -> list[Example]:
        examples = []
        for conversation in data.get("conversations") or []:
            turns = self._verbatim_turns(doc, span, conversation.get("turns") or [])
            if len(turns) >= max(2, self.settings.min_turns):
                found = Found([(role, [s]) for role, s in turns], (turns[0][1][0], turns[-1][1][1]),
                              location_at(doc, turns[0][1][0]), "llm")
                examples.append(to_example(doc, found, self.settings.include_context))
        return examples

    def _verbatim_turns(self, doc: Document, span: tuple[int, int],
                        turns: list[dict]) -> list[tuple[str, tuple[int, int]]]:
        """Turns found verbatim in the passage, as (role, span), alternating from user to assistant."""
        kept: list[tuple[str, tuple[int, int]]] = []
        for turn in turns:
            found = locate(doc.text, str(turn.get("text") or ""), *span)
            if found is None or found[0] >= found[1]:
                self.stats["stage2_turns_dropped"] += 1
                continue
            role = turn.get("role")
            if role in ("user", "assistant") and (kept[-1][0] if kept else "assistant") != role:
                kept.append((role, found))
        while kept and kept[-1][0] != "assistant":
            kept.pop()
        return kept

    def _progress(self, documents: list[Document]) -> Any:
        return tqdm(documents, desc="identify", unit="file", disable=None, leave=False)


def _key(example: Example) -> tuple[str, ...]:
    return tuple(norm(turn.content) for turn in example.turns)


def _dedupe(examples: list[Example]) -> list[Example]:
    seen: set[tuple[str, ...]] = set()
    unique = []
    for example in examples:
        if _key(example) not in seen:
            seen.add(_key(example))
            unique.append(example)
    return unique


def location_at(doc: Document, offset: int) -> str:
    """Location of the block that holds a character offset of doc.text."""
    starts = [block.start for block in doc.blocks]
    at = bisect.bisect_right(starts, offset) - 1
    return doc.blocks[at].location if doc.blocks and at >= 0 else ""


def ambiguous_passages(doc: Document, claimed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of unclaimed text around blocks holding a '?', each up to MAX_PASSAGE_CHARS."""
    passages: list[tuple[int, int]] = []
    blocks = doc.blocks
    for i, block in enumerate(blocks):
        start, end = block.start, block.start + len(block.text)
        overlapping = passages and start < passages[-1][1]
        if "?" not in block.text or overlapping or _claimed(start, end, claimed):
            continue
        k = i + 1
        while k < len(blocks) and blocks[k].start + len(blocks[k].text) - start <= MAX_PASSAGE_CHARS \
                and not _claimed(blocks[k].start, blocks[k].start + len(blocks[k].text), claimed):
            end = blocks[k].start + len(blocks[k].text)
            k += 1
        if end > start:
            passages.append((start, min(end, start + MAX_PASSAGE_CHARS)))
    return passages[:MAX_PASSAGES_PER_DOCUMENT]


def _claimed(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)
