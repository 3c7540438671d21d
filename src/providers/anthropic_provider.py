"""Anthropic messages with a forced tool call whose input_schema is our schema (`anthropic` SDK)."""

from __future__ import annotations

import json
from typing import Any

import anthropic

from src.providers.base_provider import BaseProvider, RawReply, Request

TOOL_DESCRIPTION = "Give your reply through this tool, filling in every field."


class AnthropicProvider(BaseProvider):
    name = "anthropic"
    key_env_var = "ANTHROPIC_API_KEY"
    default_base_url = "https://api.anthropic.com"
    timeout_errors = (anthropic.APITimeoutError,)
    connection_errors = (anthropic.APIConnectionError,)
    status_errors = (anthropic.APIError,)  # status errors and unreadable replies

    def make_client(self) -> Any:
        return anthropic.AsyncAnthropic(api_key=self.api_key, base_url=self.base_url,
                                        timeout=self.timeout, max_retries=0)

    def build_request(self, req: Request) -> dict:
        # anthropic 2.x has no temperature parameter: the model's default sampling is used
        return {"model": req.model, "system": req.system, "max_tokens": req.max_tokens,
                "messages": [{"role": "user", "content": req.user}],
                "tools": [{"name": req.schema_name, "description": TOOL_DESCRIPTION,
                           "input_schema": req.schema}],
                "tool_choice": {"type": "tool", "name": req.schema_name}}

    async def call(self, client: Any, kwargs: dict) -> Any:
        return await client.messages.create(**kwargs)

    def parse_reply(self, response: Any) -> RawReply:
        usage = response.usage
        tokens = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        for block in response.content:
            if block.type == "tool_use":
                data = block.input if isinstance(block.input, dict) else None
                return RawReply(text=json.dumps(block.input), data=data, **tokens)
        text = "".join(getattr(block, "text", "") for block in response.content)
        return RawReply(text=text, **tokens)
