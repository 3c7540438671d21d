"""What every LLM-driven agent shares: prompt templates, the client, concurrency, failure bookkeeping.

An agent turns chunks into Examples. It never scores, dedups or stores them: the pipeline does that.
Work items run concurrently through `run_items`; the LLM client enforces the rate limit, retries and the
budget. A failed item is recorded with its reason and the run goes on; `BudgetExhausted` and
`AuthError` (a refused key) stop new work.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from src.config import PROJECT_ROOT, Config
from src.errors import AuthError, BadReply, BudgetExhausted, ConfigError, ProviderError
from src.models import Chunk, Example, Turn
from src.providers.llm_client import LLMClient, ResponseCache, failure_category

log = logging.getLogger(__name__)
T = TypeVar("T")
PROMPTS_DIR = PROJECT_ROOT / "prompts"


@dataclass
class ItemFailure:
    """One work item that produced nothing, and why."""

    item: str  # chunk id
    category: str  # malformed_output | rate_limited | unavailable | auth | budget | other
    message: str


@dataclass
class AgentOutput:
    """What an agent run produced: examples (incl. rejected drafts), failures, and whether it stopped."""

    examples: list[Example] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    stopped_reason: str = ""  # "" | "budget" | "auth: …" | "billing: …" (what stopped all work)


@dataclass(frozen=True)
class WriterRequest:
    """The one request a writing agent sends for a work item, and how many samples it asks for."""

    system: str
    user: str
    schema: dict
    schema_name: str
    temperature: float
    max_tokens: int
    asked: int  # conversations asked for

    def args(self) -> tuple[str, str, dict]:
        return self.system, self.user, self.schema

    def kwargs(self) -> dict[str, Any]:
        return {"schema_name": self.schema_name, "temperature": self.temperature,
                "max_tokens": self.max_tokens}


def load_prompt(relative: str) -> str:
    """A prompt template from prompts/ (e.g. 'system/create_mode.txt')."""
    path = PROMPTS_DIR / relative
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigError(f"Prompt file {path} is missing. Restore it from the repository "
                          "(git checkout -- prompts/).") from None


def stable_id(*parts: Any) -> str:
    """A deterministic sample id, so a resumed run stores the same sample under the same id."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def malformed_placeholder(chunk: Chunk, mode: str, message: str, item: str) -> Example:
    """A rejected stand-in for a work item (`item`: its id) about `chunk` whose reply stayed
    malformed, so error analysis counts it (one per work item: three passes, three stand-ins)."""
    return Example(id=stable_id(mode, item, "malformed"), turns=[Turn("user", ""),
                   Turn("assistant", "")], mode=mode, origin="synthetic",
                   source_file=chunk.source_file, location=chunk.location, chunk_id=chunk.id,
                   context=chunk.text, reasons=["malformed_output"], notes=[message[:300]])


async def run_items(items: Sequence[T], work: Callable[[T], Awaitable[list[Example]]],
                    item_id: Callable[[T], str], output: AgentOutput,
                    on_done: Callable[[list[Example]], None] | None = None,
                    mode: str = "") -> None:
    """Run `work` over items concurrently; collect examples and failures into `output`.

    Concurrency is bounded by the LLM client; here every item is scheduled and awaited. After a
    BudgetExhausted or an AuthError no further item starts (items already in flight finish). Examples land in
    `output` in the order of `items`, not of completion, so network timing cannot change which
    samples a later size cap or dedup keeps (a resumed run keeps the same ones).
    """
    stopped_by = ""  # "budget" or "auth" once no further item can succeed
    produced: list[list[Example]] = [[] for _ in items]

    async def one(index: int, item: T) -> None:
        nonlocal stopped_by
        if stopped_by:
            output.failures.append(ItemFailure(item_id(item), stopped_by,
                                           f"not started: {output.stopped_reason}"))
            return
        try:
            examples = await work(item)
        except (BudgetExhausted, AuthError) as exc:  # no later item can succeed either
            category = failure_category(exc)  # budget, billing (BillingError is an AuthError), auth
            if not stopped_by:
                stopped_by = category
                output.stopped_reason = "budget" if category == "budget" else f"{category}: {exc}"
            output.failures.append(ItemFailure(item_id(item), category, str(exc)))
            return
        except ProviderError as exc:
            output.failures.append(ItemFailure(item_id(item), failure_category(exc), str(exc)))
            chunk = getattr(item, "chunk", item)  # work items are chunks or slots of one
            if isinstance(exc, BadReply) and isinstance(chunk, Chunk):
                examples = [malformed_placeholder(chunk, mode, str(exc), item_id(item))]
            else:
                return
        produced[index] = examples
        if on_done:
            on_done(examples)

    await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
    for examples in produced:
        output.examples.extend(examples)


def interleave_by_source(chunks: Sequence[Chunk]) -> list[Chunk]:
    """Round-robin chunks across files (and spread within each file) so N samples cover every file."""
    by_file: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_file.setdefault(chunk.source_file, []).append(chunk)
    return round_robin([_spread(group) for group in by_file.values()])


def round_robin(groups: list[list[T]]) -> list[T]:
    """The first of each group, then the second of each, and so on (groups may differ in length)."""
    queues = [list(group) for group in groups]
    ordered: list[T] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def _spread(group: list[Chunk]) -> list[Chunk]:
    """Order a file's chunks so that any prefix is spread over the file (bit-reversal-like)."""
    order: list[Chunk] = []
    seen: set[int] = set()
    step = len(group)
    while len(order) < len(group):
        for i in range(0, len(group), max(step, 1)):
            if i not in seen:
                seen.add(i)
                order.append(group[i])
        step //= 2
    return order


def client_for(config: Config, db: ResponseCache | None) -> LLMClient:
    """The agent LLM client for this config (its SDK is imported only when a request is made)."""
    return LLMClient(config, db)
