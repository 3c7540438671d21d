"""One rate limit, one budget and one resume cache for every worker of a Ray cluster.

A cluster must never send more than one machine would be allowed to. The LLM client of each Ray
worker keeps its shape (`LLMClient.limiter`, `.budget`, the `ResponseCache` it is handed), and the
engine swaps in proxies of single named actors:

- `SharedLimits` (one per run, named): the client's own `RateLimiter` (requests and tokens per
  minute, AIMD after a 429, never sooner than Retry-After) and `Budget` (each request reserved at
  its worst case before it leaves) for the whole cluster. A worker asks it for its slot and sleeps
  locally until then; a 429 anywhere slows everyone.
- `ResponseStore` (one per run, named, on the driver's node): the driver's SQLite store for the
  resume cache, so a paid reply is saved as soon as it parses, wherever it was received, and a
  resumed run finds it.

The classes are plain Python; `ray_engine` turns them into actors (Ray is optional and imported
only there and in the proxies' methods).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from src.errors import BudgetExhausted
from src.persistence.sqlite_client import Database
from src.providers.llm_client import Budget, RateLimiter, Usage


class SharedLimits:
    """The cluster's rate limiter and budget (the body of a named Ray actor)."""

    def __init__(self, requests_per_minute: float, tokens_per_minute: float, cap_usd: float):
        self.limiter = RateLimiter(requests_per_minute, tokens_per_minute)
        self.budget = Budget(cap_usd)
        self.counts: Counter[str] = Counter()

    def slot(self, tokens: int) -> float:
        """Book the next request slot; seconds the caller must wait for it."""
        self.counts["requests"] += 1
        return self.limiter.reserve(tokens)

    def pause(self, seconds: float) -> None:
        self.counts["rate_limited"] += 1
        self.limiter.pause(seconds)

    def succeeded(self) -> None:
        self.limiter.succeeded()

    def settle_tokens(self, tokens: int) -> None:
        self.limiter.settle(tokens)

    def reserve(self, worst: float) -> str:
        """Reserve `worst` USD; the refusal message when the budget could be crossed, else ""."""
        try:
            self.budget.reserve(worst)
        except BudgetExhausted as exc:
            return str(exc)
        return ""

    def release(self, worst: float) -> None:
        self.budget.release(worst)

    def charge(self, cost_usd: float, worst: float) -> None:
        self.budget.charge(Usage(0, 0, cost_usd), worst)

    def settle(self, cost_usd: float, worst: float) -> None:
        """Release a reservation and charge what the request cost, in one step."""
        self.budget.release(worst)
        self.charge(cost_usd, worst)

    def state(self) -> dict[str, float]:
        """Spent and reserved USD, slots given and 429s seen, for reports and tests."""
        return {"spent": self.budget.spent, "reserved": self.budget.reserved,
                "requests": self.counts["requests"], "rate_limited": self.counts["rate_limited"],
                "request_interval": self.limiter.request_interval}


class ResponseStore:
    """The resume cache of the driver's SQLite store (the body of a named Ray actor)."""

    def __init__(self, db_path: str):
        self.db = Database(db_path)

    def cache_get(self, key: str) -> dict | None:
        return self.db.cache_get(key)

    def cache_put(self, *args: Any) -> None:
        self.db.cache_put(*args)


class LimiterProxy:
    """A client's `limiter`, served by the shared actor."""

    def __init__(self, actor: Any):
        self.actor = actor

    async def wait(self, tokens: int) -> None:
        delay = await self.actor.slot.remote(tokens)
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        self.actor.pause.remote(seconds)  # no need to wait: the next slot asked for sees it

    def succeeded(self) -> None:
        self.actor.succeeded.remote()

    def settle(self, tokens: int) -> None:
        self.actor.settle_tokens.remote(tokens)  # like pause: the next slot asked for sees it


class BudgetProxy:
    """A client's `budget`: reserved against the shared budget first, then its own (which keeps
    this worker's spending for the run's totals)."""

    def __init__(self, own: Budget, actor: Any):
        self.own, self.actor = own, actor
        self._unsettled: tuple[float, asyncio.Handle] | None = None

    def reserve(self, worst: float) -> None:
        import ray  # optional dependency: only the Ray engine builds this proxy

        refusal = ray.get(self.actor.reserve.remote(worst))
        if refusal:
            raise BudgetExhausted(refusal)
        self.own.reserve(worst)

    def release(self, worst: float) -> None:
        """The client releases a request's reservation, then (if it was answered) charges it at
        once, with no await between: the actor is told both as one `settle`, so no other worker
        can reserve in between against a budget that shows neither. A request that failed is
        released when the event loop next runs."""
        self.own.release(worst)
        handle = asyncio.get_running_loop().call_soon(self.actor.release.remote, worst)
        self._unsettled = (worst, handle)

    def charge(self, usage: Any, worst: float) -> None:
        self.own.charge(usage, worst)
        pending, handle = self._unsettled or (None, None)
        if pending == worst and handle is not None:
            handle.cancel()
            self._unsettled = None
            self.actor.settle.remote(usage.cost_usd, worst)
        else:
            self.actor.charge.remote(usage.cost_usd, worst)

    def __getattr__(self, name: str) -> Any:  # spent, cap, ...: this worker's own figures
        return getattr(self.own, name)


class StoreProxy:
    """A client's ResponseCache, served by the driver's store actor."""

    def __init__(self, actor: Any):
        self.actor = actor

    def cache_get(self, key: str) -> dict | None:
        import ray  # optional dependency: only the Ray engine builds this proxy

        return ray.get(self.actor.cache_get.remote(key))

    def cache_put(self, *args: Any) -> None:
        import ray  # optional dependency: only the Ray engine builds this proxy

        ray.get(self.actor.cache_put.remote(*args))  # saved before the reply is used
