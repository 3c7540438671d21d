"""The agent-side adapters by provider name: a plain function, no plugin framework.

Each SDK takes a second or more and tens of MB to import, so an adapter's module (and its SDK) is
imported only when that provider is used: the imports below sit inside the function on purpose.
"""

from __future__ import annotations

from src.config import AGENT_PROVIDERS
from src.errors import ConfigError
from src.providers.base_provider import BaseProvider


def adapter_class(provider: str) -> type[BaseProvider]:
    """The adapter class of an agent provider (one of config.AGENT_PROVIDERS)."""
    if provider == "openai":
        from src.providers.openai_provider import OpenAIProvider
        return OpenAIProvider
    if provider == "anthropic":
        from src.providers.anthropic_provider import AnthropicProvider
        return AnthropicProvider
    if provider == "google":
        from src.providers.google_provider import GoogleProvider
        return GoogleProvider
    if provider == "mistral":
        from src.providers.mistral_provider import MistralProvider
        return MistralProvider
    if provider == "llama":
        from src.providers.llama_provider import LlamaProvider
        return LlamaProvider
    raise ConfigError(f"Unknown agent provider {provider!r}; use one of "
                      f"{', '.join(AGENT_PROVIDERS)}.")
