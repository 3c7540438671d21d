"""Mistral chat completions in JSON mode, the schema in the system prompt (`mistralai` SDK)."""

from __future__ import annotations

from typing import Any

import httpx2
from mistralai.client import Mistral, errors

from src.providers.base_provider import (
    BaseProvider,
    RawReply,
    Request,
    dig,
    join_text,
    missing,
    schema_prompt,
)


class MistralProvider(BaseProvider):
    name = "mistral"
    key_env_var = "MISTRAL_API_KEY"
    default_base_url = "https://api.mistral.ai"
    timeout_errors = (httpx2.TimeoutException,)
    connection_errors = (httpx2.TransportError, errors.NoResponseError)
    status_errors = (errors.MistralError,)

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

    def parse_reply(self, response: Any) -> RawReply:
        # the SDK validated the shape already (a bad 200 raises ResponseValidationError, mapped
        # to a problem reply in BaseProvider.send); content may still be a list of chunks
        text = join_text(dig(response, "choices", 0, "message", "content"))
        usage = dig(response, "usage")
        return RawReply(text=text or "", input_tokens=dig(usage, "prompt_tokens"),
                        output_tokens=dig(usage, "completion_tokens"),
                        problem="" if text is not None else
                        missing("choices[0].message.content", response))

    async def close_client(self, client: Any) -> None:
        await client.__aexit__(None, None, None)
