"""OpenAI chat completions with a JSON schema response format (official `openai` SDK)."""

from __future__ import annotations

from typing import Any

import openai

from src.providers.base_provider import BaseProvider, RawReply, Request, schema_is_strict


class OpenAIProvider(BaseProvider):
    name = "openai"
    key_env_var = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com/v1"
    timeout_errors = (openai.APITimeoutError,)
    connection_errors = (openai.APIConnectionError,)
    status_errors = (openai.APIError,)  # status errors and unreadable replies

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

    async def call(self, client: Any, kwargs: dict) -> Any:
        return await client.chat.completions.create(**kwargs)

    def parse_reply(self, response: Any) -> RawReply:
        usage = response.usage
        return RawReply(text=response.choices[0].message.content or "",
                        input_tokens=usage.prompt_tokens if usage else 0,
                        output_tokens=usage.completion_tokens if usage else 0)
