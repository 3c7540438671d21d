"""The Gemini API's batch mode (official `google-genai` SDK), in file mode.

Facts used (checked 2026-12-05 against the SDK 3.3.0 source, ai.google.dev/api/batch-mode and
ai.google.dev/gemini-api/docs/batch-api):
- The REST reference serves batches under `v1beta`; the SDK defaults to `v1`, so the client is
  built with `api_version="v1beta"`.
- File mode: a JSONL of `{"key", "request"}` (REST camelCase, which the SDK does not convert) is
  uploaded with `files.upload`, then `batches.create(model, src="files/...", config={
  "display_name"})`; the results file (`dest.file_name`, downloaded with `files.download`) holds
  `{"key", "response" | "error"}` lines. Inline results may lose their metadata and order
  (python-genai #2008, #1909), hence file mode.
- `responseSchema` (the OpenAPI subset), not `responseJsonSchema`: the latter came back
  degenerate through batchGenerateContent (crmne/ruby_llm#894, 2026-08).
- States (SDK names) JOB_STATE_PENDING, RUNNING, then SUCCEEDED | FAILED | CANCELLED | EXPIRED.
"""

from __future__ import annotations

import io
from typing import Any

from google import genai
from google.genai import types

from src.providers.base_provider import Request
from src.providers.batch_api import BatchAdapter, BatchState, LineResult, jsonl, read_jsonl

API_VERSION = "v1beta"


def response_schema(schema: dict) -> dict:
    """A JSON schema as Gemini's `responseSchema` (OpenAPI subset), converted by the SDK."""
    converted = types.Schema.from_json_schema(json_schema=types.JSONSchema(**schema),
                                              api_option="GEMINI_API")
    return converted.model_dump(by_alias=True, exclude_none=True, mode="json")


class GoogleBatch(BatchAdapter):
    provider = "google"
    max_requests = 50_000  # no documented count cap: shard like OpenAI to keep files small
    max_bytes = 2_000_000_000  # input file limit (ai.google.dev batch docs: 2 GB)

    def make_client(self) -> Any:
        options = types.HttpOptions(base_url=self.live.base_url or None, api_version=API_VERSION,
                                    timeout=int(self.live.timeout * 1000))
        return genai.Client(api_key=self.live.api_key, http_options=options)

    def line(self, custom_id: str, req: Request) -> dict:
        return {"key": custom_id, "request": {
            "contents": [{"role": "user", "parts": [{"text": req.user}]}],
            "systemInstruction": {"parts": [{"text": req.system}]},
            "generationConfig": {"temperature": req.temperature,
                                 "maxOutputTokens": req.max_tokens,
                                 "responseMimeType": "application/json",
                                 "responseSchema": response_schema(req.schema)}}}

    def create(self, lines: list[dict], tag: str, model: str) -> tuple[str, str]:
        uploaded = self.call(self.client.files.upload, file=io.BytesIO(jsonl(lines)),
                             config=types.UploadFileConfig(display_name=f"{tag}.jsonl",
                                                           mime_type="application/jsonl"))
        job = self.call(self.client.batches.create, model=model, src=uploaded.name,
                        config={"display_name": tag}, retry=False)
        return job.name, _state(job)

    def state(self, batch_id: str) -> BatchState:
        job = self.call(self.client.batches.get, name=batch_id)
        return BatchState(_state(job), bool(job.done))

    def results(self, batch_id: str) -> list[LineResult]:
        job = self.call(self.client.batches.get, name=batch_id)
        name = job.dest.file_name if job.dest else None
        if not name:
            return []
        return [self._result(obj) for obj in
                read_jsonl(self.call(self.client.files.download, file=name))]

    def _result(self, obj: dict) -> LineResult:
        key = str(obj.get("key") or "")
        if isinstance(obj.get("response"), dict):
            response = types.GenerateContentResponse.model_validate(obj["response"])
            return LineResult(key, "answered", self.live.parse_reply(response))
        error: dict = obj["error"] if isinstance(obj.get("error"), dict) else {}
        return LineResult(key, "failed", error=f"{error.get('message') or 'no result'} "
                                                f"({error.get('status') or error.get('code')})")

    def find(self, tag: str, created_after: float, count: int, known: set[str]) -> str | None:
        for job in self.call(self.client.batches.list, config={"page_size": 100}):
            if job.display_name == tag:
                return job.name
        return None

    def cancel(self, batch_id: str) -> None:
        self.call(self.client.batches.cancel, name=batch_id)


def _state(job: Any) -> str:
    state = job.state
    return str(getattr(state, "name", state) or "JOB_STATE_PENDING")
