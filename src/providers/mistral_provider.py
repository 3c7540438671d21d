"""Mistral chat completions in JSON mode, the schema in the system prompt (`mistralai` SDK)."""

from __future__ import annotations

from typing import Any

import httpx2
from mistralai.client import Mistral, errors

from src.providers.base_provider import (
    BaseProvider,
    Request,
    schema_prompt,
)


class MistralProvider(BaseProvider):
    name = "mistral"
    key_env_var = "MISTRAL_API_KEY"
    default_base_url = "https://api.mistral.ai"
    timeout_errors = (httpx2.TimeoutException,)
    connection_errors = (httpx2.TransportError, errors.NoResponseError)
    status_errors = (errors.MistralError,)
    # the SDK validates a reply's shape itself (a bad 200 raises ResponseValidationError, a
    # problem reply in BaseProvider.send); content may still be a list of chunks
    text_path = ("choices", 0, "message", "content")
    usage_path, usage_keys = ("usage",), ("prompt_tokens", "completion_tokens")

    def make_client(self) -> Any:
        # retry_config left unset: the SDK then does not retry (we do, in base_provider)
        return Mistral(api_key=self.api_key, server_url=self.base_url,
                       timeout_ms=int(self.timeout * 1000))

    def build_request(self, req: Request) -> dict:
        system = f"{req.system}\n\n{schema_prompt(req.schema)}"
        return {"model": req.model, "temperature": req.temperature, "max_tokens": req.max_tokens,
                "messages": [{"role": "system", "content": system},
                             {"role": "user", "content": req.user}],
                "response_format": {"type": "json_object"}}

    async def call(self, client: Any, kwargs: dict) -> Any:
        return await client.chat.complete_async(**kwargs)

    async def close_client(self, client: Any) -> None:
        await client.__aexit__(None, None, None)
