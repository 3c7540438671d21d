"""One catalog of provider facts: target limits, tokenizers, prices, lifecycle — each with its source.

STUB written by the foundation; the targets issue (#4) fills it in from
../shared/reference/provider_specs.md. The function signatures below are the interface other code uses.
"""

from __future__ import annotations

# USD per 1M tokens (input, output) for models used as the AGENT (the writer of samples).
AGENT_PRICES: dict[tuple[str, str], tuple[float, float]] = {
    ("openai", "gpt-4o-mini"): (0.15, 0.60),
}


def agent_price(provider: str, model: str) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens for an agent model, or None when unknown."""
    return AGENT_PRICES.get((provider, model))
