"""OpenAI chat completions with a JSON schema response format (official `openai` SDK)."""

from __future__ import annotations

from typing import Any

import openai

from src.providers.base_provider import (
    BaseProvider,
    HttpBody,
    Request,
    http_body,
    schema_is_strict,
)


class OpenAIProvider(BaseProvider):
    name = "openai"
    key_env_var = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com/v1"
    timeout_errors = (openai.APITimeoutError,)
    connection_errors = (openai.APIConnectionError,)
    status_errors = (openai.APIError,)  # status errors and unreadable replies
    text_path = ("choices", 0, "message", "content")  # a string, or a list of text parts
    usage_path, usage_keys = ("usage",), ("prompt_tokens", "completion_tokens")
    cached_path = ("prompt_tokens_details", "cached_tokens")  # part of prompt_tokens

    def make_client(self) -> Any:
        return openai.AsyncOpenAI(api_key=self.api_key, base_url=self.base_url,
                                  timeout=self.timeout, max_retries=0)

    def build_request(self, req: Request) -> dict:
        return {"model": req.model, "temperature": req.temperature, "max_tokens": req.max_tokens,
                "messages": [{"role": "system", "content": req.system},
                             {"role": "user", "content": req.user}],
                "response_format": {"type": "json_schema", "json_schema": {
                    "name": req.schema_name, "schema": req.schema,
                    "strict": schema_is_strict(req.schema)}}}

    async def call(self, client: Any, kwargs: dict) -> HttpBody:
        # the raw body: the SDK still sends, authenticates and raises on error statuses, but a
        # 200 of any shape (an HTML page, no choices) is read by parse_reply, not by the SDK
        raw = await client.chat.completions.with_raw_response.create(**kwargs)
        return http_body(raw.http_response.text, raw.headers)
