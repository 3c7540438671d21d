"""OpenAI's Batch API (official `openai` SDK): upload a JSONL file, create, poll, read two files.

Facts used (checked 2026-12-05 against the SDK 3.51.0 source and platform.openai.com/docs/guides/
batch): `files.create(purpose="batch")` then `batches.create(input_file_id, endpoint,
completion_window="24h", metadata)`; lines `{"custom_id", "method", "url", "body"}` where body is
the live chat body (structured outputs included); at most 50,000 requests and 200 MB per input
file; one model per file. Successful lines land in `output_file_id`, the rest in `error_file_id`;
either may be null (a batch whose every line failed has only an error file). Statuses: validating,
in_progress, finalizing, cancelling, then completed | failed | expired | cancelled.
"""

from __future__ import annotations

from typing import Any

import openai

from src.providers.base_provider import Request
from src.providers.batch_api import (
    BatchAdapter,
    BatchState,
    LineResult,
    chat_line_result,
    jsonl,
    read_jsonl,
)

TERMINAL = ("completed", "failed", "expired", "cancelled")
ENDPOINT = "/v1/chat/completions"


class OpenAIBatch(BatchAdapter):
    provider = "openai"
    max_requests = 50_000
    max_bytes = 200_000_000

    def make_client(self) -> Any:
        return openai.OpenAI(api_key=self.live.api_key, base_url=self.live.base_url,
                             timeout=self.live.timeout, max_retries=0)

    def line(self, custom_id: str, req: Request) -> dict:
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT,
                "body": self.live.build_request(req)}

    def create(self, lines: list[dict], tag: str, model: str) -> tuple[str, str]:
        uploaded = self.call(self.client.files.create, file=(f"{tag}.jsonl", jsonl(lines),
                                                             "application/jsonl"), purpose="batch")
        batch = self.call(self.client.batches.create, input_file_id=uploaded.id, endpoint=ENDPOINT,
                          completion_window="24h", metadata={"tag": tag}, retry=False)
        return batch.id, batch.status

    def state(self, batch_id: str) -> BatchState:
        batch = self.call(self.client.batches.retrieve, batch_id)
        counts = batch.request_counts
        return BatchState(batch.status, batch.status in TERMINAL,
                          getattr(counts, "total", 0) or 0,
                          (getattr(counts, "completed", 0) or 0) + (getattr(counts, "failed", 0) or 0),
                          getattr(counts, "failed", 0) or 0)

    def results(self, batch_id: str) -> list[LineResult]:
        batch = self.call(self.client.batches.retrieve, batch_id)
        found: list[LineResult] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                content = self.call(self.client.files.content, file_id)
                found += [chat_line_result(self.live, obj) for obj in read_jsonl(content.content)]
        return found

    def find(self, tag: str, created_after: float, count: int, known: set[str]) -> str | None:
        for batch in self.call(self.client.batches.list, limit=100):
            if (batch.metadata or {}).get("tag") == tag:
                return batch.id
            if batch.created_at and batch.created_at < created_after:
                break  # newest first: the rest are older than our record
        return None

    def cancel(self, batch_id: str) -> None:
        self.call(self.client.batches.cancel, batch_id)
