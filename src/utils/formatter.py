"""Internal Example → one JSONL record in a target's format.

STUB written by the foundation; the targets issue (#4) completes it. Interface:
`format_example(example, fmt) -> dict` where fmt is a provider name (openai, anthropic, google,
mistral, llama) or mistral_instruct | alpaca | sharegpt.
"""

from __future__ import annotations

from src.persistence.models import Example


def format_example(example: Example, fmt: str) -> dict:
    """One record for `fmt` (only the OpenAI chat shape exists in this stub)."""
    messages = [{"role": "system", "content": example.system}] if example.system else []
    messages += [{"role": t.role, "content": t.content} for t in example.turns]
    return {"messages": messages}
