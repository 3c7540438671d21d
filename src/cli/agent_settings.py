"""The menu's agent LLM question: provider, base URL (shown and asked), model (suggested)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from src.cli import console, prompts
from src.cli import settings_editor as editor
from src.cli.settings_editor import Session
from src.config import AGENT_PROVIDERS, BASE_URL_ENV, base_url
from src.errors import UsageError
from src.masking import mask_url
from src.providers.prices import suggested_agent_model


def set_agent(s: Session) -> None:
    """Menu: the agent provider, its base URL (shown, and asked unless the environment sets it)
    and the model, suggested for that provider and address."""
    current = s.config.system.agentic_llm
    keys = {row[0]: f"{row[1]} {row[2]}, base URL {row[3]}" for row in editor.key_status(s.config)}
    provider = prompts.ask_option("Agent LLM provider (the model that WRITES samples)",
                                  [(p, keys[p]) for p in AGENT_PROVIDERS], current)
    _set_base_url(s, provider)
    default = (s.config.system.agentic_model if provider == current else
               suggested_agent_model(provider, base_url(provider, s.config)))
    model = prompts.ask_text(f"Agent model name at {provider}", default=default)
    s.update({"system.agentic_llm": provider, "system.agentic_model": model})
    hint = editor.key_hint(provider, s.config)
    if hint:
        console.warn(hint)
    console.success(f"Agent LLM: {provider}/{model}.")


def _set_base_url(s: Session, provider: str) -> None:
    """Show the base URL in use and ask for one (unless the environment sets it: that wins)."""
    env = BASE_URL_ENV[provider]
    if os.environ.get(env):
        console.info(f"Base URL: {mask_url(os.environ[env])} (from {env}, which wins over "
                     "config.yaml).")
        return
    urls = dict(s.config.system.base_urls)
    example = "http://127.0.0.1:11434/v1" if provider in ("openai", "llama") else \
        "http://127.0.0.1:8000"
    url = prompts.ask_until(f"Base URL for {provider} (Enter: the provider's own; a local "
                            f"server, e.g. {example})", _check_base_url,
                            default=urls.get(provider, ""))
    if url != urls.get(provider, ""):
        urls = {k: v for k, v in {**urls, provider: url}.items() if v}
        s.update({"system.base_urls": urls})


def _check_base_url(text: str) -> str:
    url = text.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("write a URL such as http://127.0.0.1:11434/v1")
    if parts.password:
        raise UsageError("a URL with a password belongs in .env (e.g. LLAMA_BASE_URL), never in "
                         "config.yaml")
    return url
