"""Anthropic messages with a forced tool call whose input_schema is our schema (`anthropic` SDK)."""

from __future__ import annotations

import json
from typing import Any

import anthropic

from src.providers.base_provider import (
    BaseProvider,
    HttpBody,
    RawReply,
    Request,
    dig,
    http_body,
    join_text,
    missing,
)

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

    async def call(self, client: Any, kwargs: dict) -> HttpBody:
        # the raw body, read by parse_reply whatever its shape (see OpenAIProvider.call)
        raw = await client.messages.with_raw_response.create(**kwargs)
        return http_body(raw.http_response.text, raw.headers)

    def parse_reply(self, response: HttpBody) -> RawReply:
        blocks = dig(response.data, "content")
        usage = dig(response.data, "usage")
        tokens = {"input_tokens": dig(usage, "input_tokens"),
                  "output_tokens": dig(usage, "output_tokens")}
        for block in blocks if isinstance(blocks, list) else []:
            if dig(block, "type") == "tool_use" and isinstance(dig(block, "input"), dict):
                return RawReply(text=json.dumps(block["input"], ensure_ascii=False),
                                data=block["input"], **tokens)
        text = join_text(blocks)
        return RawReply(text=text or "", problem="" if text is not None else
                        missing("content (a tool_use block or text)", response), **tokens)
