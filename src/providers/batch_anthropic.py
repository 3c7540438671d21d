"""Anthropic's Message Batches API (official `anthropic` SDK): create with the requests inline.

Facts used (checked 2026-12-05 against the SDK 2.10.0 source and platform.claude.com/docs/
build-with-claude/batch-processing + the API reference): `messages.batches.create(requests=[{
custom_id, params}])` where params are the live `messages.create` arguments (our forced tool call
included); at most 100,000 requests or 256 MB per batch; custom_id `^[a-zA-Z0-9_-]{1,64}$`;
`processing_status` in_progress | canceling | ended; `results()` streams lines whose
`result.type` is succeeded | errored | canceled | expired, in any order; results are kept 29 days.
A batch has no metadata field, so an interrupted create is found by its size and creation time.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import anthropic

from src.providers.base_provider import HttpBody, Request, dig
from src.providers.batch_api import BatchAdapter, BatchState, LineResult

FIND_WINDOW_S = 600  # a batch created this long before our record still counts as ours


class AnthropicBatch(BatchAdapter):
    provider = "anthropic"
    max_requests = 100_000
    max_bytes = 256_000_000

    def make_client(self) -> Any:
        return anthropic.Anthropic(api_key=self.live.api_key, base_url=self.live.base_url,
                                   timeout=self.live.timeout, max_retries=0)

    def line(self, custom_id: str, req: Request) -> dict:
        return {"custom_id": custom_id, "params": self.live.build_request(req)}

    def create(self, lines: list[dict], tag: str, model: str) -> tuple[str, str]:
        batch = self.call(self.client.messages.batches.create, requests=lines, retry=False)
        return batch.id, batch.processing_status

    def state(self, batch_id: str) -> BatchState:
        batch = self.call(self.client.messages.batches.retrieve, batch_id)
        counts = batch.request_counts
        total = _total(counts)
        return BatchState(batch.processing_status, batch.processing_status == "ended", total,
                          total - (counts.processing or 0),
                          (counts.errored or 0) + (counts.expired or 0) + (counts.canceled or 0))

    def results(self, batch_id: str) -> list[LineResult]:
        return [self._result(line) for line in
                self.call(lambda: list(self.client.messages.batches.results(batch_id)))]

    def _result(self, line: Any) -> LineResult:
        kind = dig(line, "result", "type")
        if kind == "succeeded":
            message = line.result.message.model_dump(mode="json")
            return LineResult(line.custom_id, "answered",
                              self.live.parse_reply(HttpBody(message, json.dumps(message))))
        if kind in ("expired", "canceled"):
            return LineResult(line.custom_id, "expired" if kind == "expired" else "cancelled",
                              error=f"the request was {kind} before it ran")
        error = dig(line, "result", "error", "error")
        message = dig(error, "message") or "no error message"
        return LineResult(line.custom_id, "failed", error=f"{message} ({dig(error, 'type')})")

    def find(self, tag: str, created_after: float, count: int, known: set[str]) -> str | None:
        for batch in self.call(self.client.messages.batches.list, limit=100):
            created = batch.created_at.timestamp() if isinstance(batch.created_at, datetime) \
                else 0.0
            if created < created_after - FIND_WINDOW_S:
                break  # newest first
            if batch.id not in known and _total(batch.request_counts) == count:
                return batch.id
        return None

    def cancel(self, batch_id: str) -> None:
        self.call(self.client.messages.batches.cancel, batch_id)


def _total(counts: Any) -> int:
    return sum(int(getattr(counts, name, 0) or 0) for name in
               ("processing", "succeeded", "errored", "canceled", "expired"))
