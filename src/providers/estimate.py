"""The pre-run estimate of an LLM job: requests, tokens, cost at the run's price, and time."""

from __future__ import annotations

from dataclasses import dataclass

from src.config import Config, agent_choice, base_url
from src.providers.prices import AgentPrice, price_for

BASE_LATENCY_S = 1.0  # time to first token ...
OUTPUT_TOKENS_PER_S = 60.0  # ... plus generation speed


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
        return (f"{self.requests:,} requests, ~{self.input_tokens:,} input + "
                f"{self.output_tokens:,} output tokens, {cost}, about "
                f"{_duration(self.seconds)}{self.rate_note}")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def estimate(config: Config, requests: int, input_tokens: int, output_tokens: int, *,
             provider: str | None = None, model: str | None = None) -> Estimate:
    """The pre-run estimate for the configured agent (totals for the job); needs no API key."""
    if provider is None or model is None:
        provider, model = agent_choice(config)
    price = price_for(config, provider, model, base_url(provider, config))
    cost = price.cost(input_tokens, output_tokens) if price else 0.0
    limits, system = config.system.rate_limit, config.system
    rate_s = max(requests * 60 / limits.requests_per_minute,
                 (input_tokens + output_tokens) * 60 / limits.tokens_per_minute)
    per_request = BASE_LATENCY_S + output_tokens / max(requests, 1) / OUTPUT_TOKENS_PER_S
    seconds = max(rate_s, requests * per_request / system.concurrency)
    note = (f" at {limits.requests_per_minute:,} requests/min, "
            f"{limits.tokens_per_minute:,} tokens/min, {system.concurrency} in flight")
    return Estimate(requests, input_tokens, output_tokens, cost, seconds, price, note)
