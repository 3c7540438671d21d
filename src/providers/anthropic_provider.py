"""Anthropic messages with a forced tool call whose input_schema is our schema (`anthropic` SDK)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import anthropic

from src.providers.base_provider import (
    BaseProvider,
    HttpBody,
    RawReply,
    Request,
    dig,
    http_body,
)

TOOL_DESCRIPTION = "Give your reply through this tool, filling in every field."


class AnthropicProvider(BaseProvider):
    name = "anthropic"
    key_env_var = "ANTHROPIC_API_KEY"
    default_base_url = "https://api.anthropic.com"
    timeout_errors = (anthropic.APITimeoutError,)
    connection_errors = (anthropic.APIConnectionError,)
    status_errors = (anthropic.APIError,)  # status errors and unreadable replies
    text_path = ("content",)  # text blocks, when the model did not call the tool
    usage_path, usage_keys = ("usage",), ("input_tokens", "output_tokens")
    # Anthropic's input_tokens leaves out the prompt tokens read from or written to its cache
    cached_path, cache_write_path = ("cache_read_input_tokens",), ("cache_creation_input_tokens",)

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

    async def call(self, client: Any, kwargs: dict) -> HttpBody:
        # the raw body, read by parse_reply whatever its shape (see OpenAIProvider.call)
        raw = await client.messages.with_raw_response.create(**kwargs)
        return http_body(raw.http_response.text, raw.headers)

    def parse_reply(self, response: HttpBody) -> RawReply:
        """The forced tool call's input; else the text blocks, like any other provider. Input
        tokens count the cached ones too, as every other provider reports them."""
        reply = super().parse_reply(response)
        cached = [n for n in (reply.cached_tokens, reply.cache_write_tokens)
                  if isinstance(n, int) and not isinstance(n, bool) and n > 0]
        if cached and isinstance(reply.input_tokens, int) and not isinstance(reply.input_tokens, bool):
            reply.input_tokens += sum(cached)
        blocks = dig(response.data, "content")
        for block in blocks if isinstance(blocks, list) else []:
            if dig(block, "type") == "tool_use" and isinstance(dig(block, "input"), dict):
                return replace(reply, text=json.dumps(block["input"], ensure_ascii=False),
                               data=block["input"], problem="")
        return reply
