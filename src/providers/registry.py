"""The agent-side adapters by provider name: a plain dict, no plugin framework.

Each SDK takes a second or more to import, so an adapter's module is imported only when that
provider is used.
"""

from __future__ import annotations

import importlib

from src.providers.base_provider import BaseProvider

ADAPTERS: dict[str, str] = {
    "openai": "src.providers.openai_provider:OpenAIProvider",
    "anthropic": "src.providers.anthropic_provider:AnthropicProvider",
    "google": "src.providers.google_provider:GoogleProvider",
    "mistral": "src.providers.mistral_provider:MistralProvider",
    "llama": "src.providers.llama_provider:LlamaProvider",
}


def adapter_class(provider: str) -> type[BaseProvider]:
    """The adapter class for a provider name in ADAPTERS."""
    module, name = ADAPTERS[provider].split(":")
    cls: type[BaseProvider] = getattr(importlib.import_module(module), name)
    return cls
