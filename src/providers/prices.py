"""What the agent LLM (the model that writes samples) costs per token, with each price's source.

These are inference prices, not the training prices of the target catalog (src/targets/catalog.py).
`price_for()` decides the price a run uses, in this order: `system.agent_price` in config.yaml
(applies to any model, local servers included), then the table below, then free for a server on
this machine; otherwise None, and an LLM run refuses to start (its budget could not stop it).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from src.config import Config
from src.masking import mask_url

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


@dataclass(frozen=True)
class AgentPrice:
    """USD per 1M input and output tokens, and where that price came from; input tokens the
    provider read from its prompt cache (or wrote to it) at their own price when it has one."""

    input_per_million: float
    output_per_million: float
    source: str
    cached_per_million: float | None = None  # prompt-cache reads (None: the input price)
    cache_write_per_million: float | None = None  # prompt-cache writes (Anthropic)

    def cost(self, input_tokens: int, output_tokens: int, cached: int = 0,
             cache_written: int = 0) -> float:
        """`input_tokens` counts every prompt token, those read from or written to the cache too."""
        cached, cache_written = max(0, cached), max(0, cache_written)
        plain = max(0, input_tokens - cached - cache_written)
        read = self.input_per_million if self.cached_per_million is None else self.cached_per_million
        write = self.input_per_million if self.cache_write_per_million is None \
            else self.cache_write_per_million
        return (plain * self.input_per_million + cached * read + cache_written * write
                + output_tokens * self.output_per_million) / 1_000_000

    def describe(self) -> str:
        """e.g. "$0.15 in / $0.60 out per 1M tokens (catalog: openai.com/api/pricing, 2024-07-18)"."""
        return (f"${self.input_per_million:g} in / ${self.output_per_million:g} out per 1M tokens "
                f"({self.source})")

# --- Agent (sample-writer) inference prices, USD per 1M tokens (input, output) -------------------
# NOT from provider_specs.md (it covers training only): taken from each provider's public pricing
# page as published on the date given; verify before relying on them. Unknown model -> None.
_P_OPENAI = "openai.com/api/pricing"
_P_ANTHROPIC = "anthropic.com/pricing#api"
_P_GOOGLE = "ai.google.dev/gemini-api/docs/pricing (paid tier, prompts <= 200k)"
_P_MISTRAL = "mistral.ai/pricing#api-pricing"
_P_TOGETHER = "together.ai/pricing (serverless Turbo)"
_P_GROQ = "groq.com/pricing"
AGENT_PRICE_SOURCES: dict[tuple[str, str], tuple[float, float, str, str]] = {
    ("openai", "gpt-4o-mini"): (0.15, 0.60, _P_OPENAI, "2024-07-18"),
    ("openai", "gpt-4o"): (2.50, 10.00, _P_OPENAI, "2024-10-01"),
    ("openai", "gpt-4.1"): (2.00, 8.00, _P_OPENAI, "2025-04-14"),
    ("openai", "gpt-4.1-mini"): (0.40, 1.60, _P_OPENAI, "2025-04-14"),
    ("openai", "gpt-4.1-nano"): (0.10, 0.40, _P_OPENAI, "2025-04-14"),
    ("anthropic", "claude-3-5-haiku"): (0.80, 4.00, _P_ANTHROPIC, "2024-11-04"),
    ("anthropic", "claude-haiku-4-5"): (1.00, 5.00, _P_ANTHROPIC, "2025-10-15"),
    ("anthropic", "claude-sonnet-4-5"): (3.00, 15.00, _P_ANTHROPIC, "2025-09-29"),
    ("google", "gemini-2.5-flash"): (0.30, 2.50, _P_GOOGLE, "2025-06-17"),
    ("google", "gemini-2.5-flash-lite"): (0.10, 0.40, _P_GOOGLE, "2025-07-22"),
    ("google", "gemini-2.5-pro"): (1.25, 10.00, _P_GOOGLE, "2025-06-17"),
    ("mistral", "mistral-small-latest"): (0.10, 0.30, _P_MISTRAL, "2025-06-20 (Small 3.2)"),
    ("mistral", "mistral-large-latest"): (2.00, 6.00, _P_MISTRAL, "2024-11-18 (Large 2411); "
                                          "what -latest points to now is UNCONFIRMED"),
    ("mistral", "open-mistral-7b"): (0.25, 0.25, _P_MISTRAL, "2024-07"),
    ("llama", "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"): (0.18, 0.18, _P_TOGETHER, "2024-07-23"),
    ("llama", "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo"): (0.88, 0.88, _P_TOGETHER, "2024-07-23"),
    ("llama", "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo"): (3.50, 3.50, _P_TOGETHER, "2024-07-23"),
    ("llama", "llama-3.1-8b-instant"): (0.05, 0.08, _P_GROQ, "2024-07-23"),
}
# Prompt-cache prices, USD per 1M tokens (read, write or None when writing costs the input price),
# from the same pages and dates as above. OpenAI caches prompts of 1,024 tokens or more by
# itself; Gemini 2.5 caches implicitly (pages published since cite a larger discount than the
# one below: UNCONFIRMED, so the smaller discount is charged); Anthropic reads and writes only
# blocks marked for caching. A model not listed: cached tokens cost the input price.
CACHE_PRICES: dict[tuple[str, str], tuple[float, float | None]] = {
    ("openai", "gpt-4o-mini"): (0.075, None), ("openai", "gpt-4o"): (1.25, None),
    ("openai", "gpt-4.1"): (0.50, None), ("openai", "gpt-4.1-mini"): (0.10, None),
    ("openai", "gpt-4.1-nano"): (0.025, None),
    ("anthropic", "claude-3-5-haiku"): (0.08, 1.00),
    ("anthropic", "claude-haiku-4-5"): (0.10, 1.25),
    ("anthropic", "claude-sonnet-4-5"): (0.30, 3.75),
    ("google", "gemini-2.5-flash"): (0.075, None), ("google", "gemini-2.5-flash-lite"): (0.025, None),
    ("google", "gemini-2.5-pro"): (0.31, None),
}
AGENT_PRICES: dict[tuple[str, str], tuple[float, float]] = {
    key: (value[0], value[1]) for key, value in AGENT_PRICE_SOURCES.items()}
_DATED_SUFFIXES = ("-latest", "-20241022", "-20250929", "-20251001", "-2024-07-18", "-2024-08-06",
                   "-2025-04-14", "-001")


def agent_price(provider: str, model: str) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens for an agent model in the table, or None when unknown."""
    known = _catalog_key(provider, model)
    return AGENT_PRICES[known] if known else None


# A model to offer when the agent provider changes (the menu's default answer): priced above,
# or for a server on this machine the name Ollama gives Llama 3.1 8B.
SUGGESTED_AGENT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5",
                          "google": "gemini-2.5-flash", "mistral": "mistral-small-latest",
                          "llama": "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"}
LOCAL_LLAMA_MODEL = "llama3.1:8b"


def suggested_agent_model(provider: str, url: str | None) -> str:
    """A sensible agent model for `provider` at `url` (a suggestion the user may change)."""
    if provider in ("openai", "llama") and is_local(url):
        return LOCAL_LLAMA_MODEL if provider == "llama" else SUGGESTED_AGENT_MODELS[provider]
    return SUGGESTED_AGENT_MODELS.get(provider, "")


def is_local(url: str | None) -> bool:
    """True for a base URL on this machine (a local server costs nothing unless a price is set)."""
    try:
        return bool(url) and urlsplit(url or "").hostname in LOCAL_HOSTS
    except ValueError:
        return False


def price_for(config: Config, provider: str, model: str, url: str | None) -> AgentPrice | None:
    """The price a run uses for this agent model (see the module docstring), or None if unknown."""
    explicit = config.system.agent_price
    if explicit:
        return AgentPrice(explicit["input_per_million"], explicit["output_per_million"],
                          "system.agent_price in config.yaml")
    known = _catalog_key(provider, model)
    if known is not None:
        inp, out, page, date = AGENT_PRICE_SOURCES[known]
        read, write = CACHE_PRICES.get(known, (None, None))
        return AgentPrice(inp, out, f"catalog price of {known[0]}/{known[1]}: {page}, {date}",
                          read, write)
    if is_local(url):
        return AgentPrice(0.0, 0.0, f"free: a server on this machine ({mask_url(url or '')})")
    return None


def _catalog_key(provider: str, model: str) -> tuple[str, str] | None:
    if (provider, model) in AGENT_PRICES:
        return provider, model
    for suffix in _DATED_SUFFIXES:  # "claude-haiku-4-5-20251001" -> "claude-haiku-4-5"
        if model.endswith(suffix) and (provider, model[: -len(suffix)]) in AGENT_PRICES:
            return provider, model[: -len(suffix)]
    return None
