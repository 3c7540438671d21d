"""The agent client in batch mode: answers from the resume cache, or says the answer is pending.

Agents are unchanged: they call `complete_json` as always. Every request has a deterministic
resume-cache key (`llm_client.request_key`), so a batch *round* replays the agents: a request whose
reply is in the cache is answered at once; any other is noted in `pending` and raises
`BatchPending` (that work item waits; it is not a failure). The pipeline then submits what is
pending as provider batches (src/pipeline/batch.py) and, when results come back, `absorb` puts
them in the same cache through the same reply parsing as live replies, charged at batch prices.
The next replay gets further, until nothing is pending.

Per request, at most two submissions: a reply that does not parse gets the live client's one
repair request (the error appended), a failed, expired or cancelled line is retried once; after
that the item fails with the reason, like a live failure (nothing silent).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from src.config import Config
from src.errors import (
    BadReply,
    BatchPending,
    BudgetExhausted,
    BuilderError,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
)
from src.persistence import batch_jobs
from src.persistence.sqlite_client import Database
from src.providers.base_provider import BaseProvider, Request, parse_json_reply
from src.providers.batch_api import BatchAdapter, LineResult, batch_price
from src.providers.budget import Budget, Usage
from src.providers.llm_client import (
    RETRY_NOTE,
    LLMClient,
    Reply,
    failure_category,
    request_tokens,
)

BATCH_PROVIDERS = ("openai", "anthropic", "google", "mistral")


def batch_adapter(live: BaseProvider, max_retries: int) -> BatchAdapter:
    """The Batch API adapter of an agent provider (its SDK is imported here, on first use)."""
    if live.name == "openai":
        from src.providers.batch_openai import OpenAIBatch
        return OpenAIBatch(live, max_retries)
    if live.name == "anthropic":
        from src.providers.batch_anthropic import AnthropicBatch
        return AnthropicBatch(live, max_retries)
    if live.name == "google":
        from src.providers.batch_google import GoogleBatch
        return GoogleBatch(live, max_retries)
    if live.name == "mistral":
        from src.providers.batch_mistral import MistralBatch
        return MistralBatch(live, max_retries)
    raise ConfigError(f"system.batch is on, but {live.name} has no Batch API here: batch mode "
                      f"works with {', '.join(BATCH_PROVIDERS)} (choose one with "
                      "--agent-provider), or run without --batch.")


@dataclass
class Waiting:
    """A request whose reply is not in the cache: to submit now, or already in a batch."""

    key: str
    request: Request
    attempt: int
    submit: bool  # False: already submitted, its batch has not ended


class BatchLLMClient(LLMClient):
    """`LLMClient` for batch rounds (see the module docstring); `dataset` names the batch run."""

    def __init__(self, config: Config, db: Database, *, dataset: str):
        super().__init__(config, db)
        self.db: Database = db
        self.dataset = dataset
        self.live_price = self.price
        self.price = batch_price(self.price, self.provider)
        self.pending: dict[str, Waiting] = {}
        self._batch = batch_adapter(self.adapter, config.system.max_retries)

    @property
    def batch(self) -> BatchAdapter:
        return self._batch

    async def complete_json(self, system: str, user: str, schema: dict, *,
                            schema_name: str = "reply", temperature: float = 0.7,
                            max_tokens: int = 1024) -> Reply:
        req, key, cached = self._lookup(Request(self.model, system, user, schema, schema_name,
                                                temperature, max_tokens))
        if cached is not None:
            return cached
        try:
            self.pending[key] = self._waiting(key, req)
        except BuilderError as exc:
            self._failures[failure_category(exc)] += 1
            raise
        raise BatchPending(f"waiting for the {self.provider} Batch API")

    def _waiting(self, key: str, req: Request) -> Waiting:
        """What this request needs next, from its submissions so far (or the final error)."""
        rows = batch_jobs.history(self.db, self.dataset, key)
        if not rows or rows[-1]["state"] == "answered":  # answered but not cached: ask again
            return Waiting(key, req, 1, True)
        last = rows[-1]
        if last["state"] == "submitted":
            return Waiting(key, req, last["attempt"], False)
        if last["state"] == "budget":
            raise BudgetExhausted(last["error"])
        if last["attempt"] >= 2:
            raise _final_error(self.provider, last["state"], last["error"])
        if last["state"] == "malformed":
            return Waiting(key, dataclasses.replace(req, user=req.user + RETRY_NOTE.format(
                error=last["error"])), 2, True)
        return Waiting(key, req, 2, True)  # failed, expired or cancelled: retried once

    # ------------------------------------------------------------ submitting

    def to_submit(self) -> list[Waiting]:
        return [w for w in self.pending.values() if w.submit]

    def affordable(self, waiting: list[Waiting]) -> list[tuple[Waiting, int, float]]:
        """The requests that fit the budget, with their input tokens and worst-case cost at batch
        prices (spent + reserved in flight + each worst case stays under budget_usd); the rest
        are recorded as refused for the budget, so the next replay stops there like a live run."""
        budget = Budget(self.config.budget_usd)
        budget.spent, budget.reserved = batch_jobs.spent_and_reserved(self.db, self.dataset)
        fits = []
        for w in waiting:
            tokens_in = request_tokens(w.request, self.provider)
            worst = self.price.cost(tokens_in, w.request.max_tokens)
            try:
                budget.reserve(worst)
            except BudgetExhausted as exc:
                batch_jobs.refuse_for_budget(self.db, self.dataset, w.key,
                                             dataclasses.asdict(w.request), str(exc))
                continue
            fits.append((w, tokens_in, worst))
        return fits

    # ------------------------------------------------------------ results

    def absorb(self, rows: list[dict], results: list[LineResult]) -> dict[str, int]:
        """Store a finished batch's results: replies parsed and cached (charged at batch prices),
        the rest recorded with their reason. Returns counts per outcome."""
        by_id = {r.custom_id: r for r in results}
        counts: dict[str, int] = {}
        for row in rows:
            result = by_id.get(row["custom_id"])
            if result is None:
                continue
            state = self._absorb_one(row, result)
            counts[state] = counts.get(state, 0) + 1
        return counts

    def _absorb_one(self, row: dict, result: LineResult) -> str:
        req = Request(**row["request"])
        if result.raw is None:
            batch_jobs.set_result(self.db, row["custom_id"], result.state, result.error)
            return result.state
        charge = self._charge(result.raw, row["tokens_in"])
        try:
            if result.raw.problem:
                raise BadReply(result.raw.problem)
            data = parse_json_reply(result.raw, req.schema)
        except BadReply as exc:
            batch_jobs.set_result(self.db, row["custom_id"], "malformed", str(exc),
                                  charge.input_tokens, charge.output_tokens, charge.cost_usd)
            self._counts["malformed_retries"] += 1
            return "malformed"
        earlier = [r for r in batch_jobs.history(self.db, self.dataset, row["key"])
                   if r["custom_id"] != row["custom_id"]]
        usage = Usage(charge.input_tokens + sum(r["input_tokens"] for r in earlier),
                      charge.output_tokens + sum(r["output_tokens"] for r in earlier),
                      charge.cost_usd + sum(r["cost_usd"] for r in earlier))
        self._store(row["key"], data, result.raw.text, usage)  # under the original request's key
        batch_jobs.set_result(self.db, row["custom_id"], "answered", "", charge.input_tokens,
                              charge.output_tokens, charge.cost_usd)
        return "answered"


def _final_error(provider: str, state: str, error: str) -> ProviderError:
    """The failure of a request whose second submission did not work either."""
    if state == "malformed":
        return BadReply(f"{provider} twice replied with unusable JSON ({error}); the item is "
                        "recorded as malformed_output.")
    if state in ("expired", "cancelled"):
        return ProviderUnavailable(f"the {provider} Batch API {state} this request twice "
                                   f"({error}); run again later, or without --batch.")
    return ProviderError(f"the {provider} Batch API failed this request twice: {error}")

