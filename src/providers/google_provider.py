"""Gemini generateContent with a JSON response schema (official `google-genai` SDK)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types

from src.providers.base_provider import BaseProvider, Request


class GoogleProvider(BaseProvider):
    name = "google"
    key_env_var = "GOOGLE_API_KEY"
    default_base_url = ""  # the SDK's own (generativelanguage.googleapis.com)
    timeout_errors = (httpx2.TimeoutException,)
    connection_errors = (httpx2.TransportError,)
    status_errors = (errors.APIError,)
    body_errors = (json.JSONDecodeError,)  # google-genai parses a 200 itself: HTML, non-JSON
    text_path = ("candidates", 0, "content", "parts")
    usage_path, usage_keys = ("usage_metadata",), ("prompt_token_count", "candidates_token_count")
    cached_path = ("cached_content_token_count",)  # part of prompt_token_count

    def make_client(self) -> Any:
        options = types.HttpOptions(base_url=self.base_url or None,
                                    timeout=int(self.timeout * 1000))
        return genai.Client(api_key=self.api_key, http_options=options).aio

    def build_request(self, req: Request) -> dict:
        config = types.GenerateContentConfig(
            system_instruction=req.system, temperature=req.temperature,
            max_output_tokens=req.max_tokens, response_mime_type="application/json",
            response_json_schema=req.schema)
        return {"model": req.model, "contents": req.user, "config": config}

    async def call(self, client: Any, kwargs: dict) -> Any:
        return await client.models.generate_content(**kwargs)

    def status_and_headers(self, exc: BaseException) -> tuple[int | None, Any]:
        return getattr(exc, "code", None), getattr(getattr(exc, "response", None), "headers", None)

    async def close_client(self, client: Any) -> None:
        await client.aclose()
