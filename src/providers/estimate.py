"""The pre-run estimate of an LLM job: requests, tokens, cost at the run's price, and time.

Time: the first request goes alone, then requests leave at the slower of the rate limits
(requests and tokens per minute) and what `system.concurrency` requests in flight allow at the
server's pace (speed.py: measured in an earlier run with this agent, else a hosted model's pace
assumed), and the last answer takes one request's time; the finishing stages (validation, split,
export, report) follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from src.config import Config, agent_choice, base_url
from src.providers.prices import AgentPrice, price_for
from src.providers.speed import Speed, agent_key, finish_seconds, load


@dataclass
class Estimate:
    """Totals for a job; `price` None when no price is known (a run then refuses to start)."""

    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    seconds: float
    price: AgentPrice | None = None
    rate_note: str = ""
    finish_seconds: float = 0.0  # validation, split, export and report after the requests
    speed: Speed | None = None

    @property
    def total_seconds(self) -> float:
        return self.seconds + self.finish_seconds

    @property
    def price_known(self) -> bool:
        return self.price is not None

    @property
    def duration(self) -> str:
        return _duration(self.seconds)

    def describe(self) -> str:
        """One line for the confirmation prompt and `generate` output."""
        cost = (f"about ${self.cost_usd:,.2f} at {self.price.describe()}" if self.price else
                "cost unknown (no price for this agent model: set system.agent_price)")
        pace = f"; {self.speed.describe()}" if self.speed is not None else ""
        return (f"{self.requests:,} requests, ~{self.input_tokens:,} input + "
                f"{self.output_tokens:,} output tokens, {cost}, about "
                f"{_duration(self.total_seconds)}{self.rate_note}{pace}")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def estimate(config: Config, requests: int, input_tokens: int, output_tokens: int, *,
             provider: str | None = None, model: str | None = None,
             samples: int = 0) -> Estimate:
    """The pre-run estimate for the configured agent (totals for the job); needs no API key.
    `samples`: the dataset's size, for the time of the finishing stages (0: not counted)."""
    if provider is None or model is None:
        provider, model = agent_choice(config)
    url = base_url(provider, config)
    price = price_for(config, provider, model, url)
    cost = price.cost(input_tokens, output_tokens) if price else 0.0
    speed = load(agent_key(provider, model, url))
    seconds = request_seconds(config, requests, input_tokens, output_tokens, speed)
    limits, system = config.system.rate_limit, config.system
    note = (f" at {limits.requests_per_minute:,} requests/min, "
            f"{limits.tokens_per_minute:,} tokens/min, {system.concurrency} in flight")
    return Estimate(requests, input_tokens, output_tokens, cost, seconds, price, note,
                    finish_seconds(samples) if samples else 0.0, speed)


def request_seconds(config: Config, requests: int, input_tokens: int, output_tokens: int,
                    speed: Speed) -> float:
    """From the first request sent to the last answer (see the module docstring)."""
    if requests <= 0:
        return 0.0
    limits = config.system.rate_limit
    latency = speed.request_seconds(output_tokens / requests)
    per_request = max(1.0, (input_tokens + output_tokens) / requests)
    allowed = min(limits.requests_per_minute, limits.tokens_per_minute / per_request) / 60
    in_flight = config.system.concurrency / max(latency, 1e-3)
    tail = latency if allowed < in_flight else 0.0  # the last answer, after the last start
    return latency + (requests - 1) / min(allowed, in_flight) + tail
