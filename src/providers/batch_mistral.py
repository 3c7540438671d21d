"""Mistral's Batch API (official `mistralai` SDK): upload a JSONL file, create a job, poll, download.

Facts used (checked 2026-12-05 against the SDK 3.7.0 source and docs.mistral.ai/studio-api/
batch-processing): `files.upload(purpose="batch")` then `batch.jobs.create(input_files, model,
endpoint, metadata, timeout_hours)`; lines `{"custom_id", "body"}` where body is the live request
body ("the model field inside body is optional when you specify the model at job creation time");
up to 1M requests per batch (docs.mistral.ai/capabilities/batch), files up to 512 MB (SDK). Output
and error files hold OpenAI-style lines in any order; `files.download` must be answered as
application/octet-stream. Statuses: QUEUED, RUNNING, CANCELLATION_REQUESTED, then SUCCESS | FAILED
| TIMEOUT_EXCEEDED | CANCELLED.
"""

from __future__ import annotations

from typing import Any

from mistralai.client import Mistral

from src.providers.base_provider import Request
from src.providers.batch_api import (
    BatchAdapter,
    BatchState,
    LineResult,
    chat_line_result,
    jsonl,
    read_jsonl,
)

TERMINAL = ("SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLED")
ENDPOINT = "/v1/chat/completions"


class MistralBatch(BatchAdapter):
    provider = "mistral"
    max_requests = 1_000_000
    max_bytes = 512_000_000

    def make_client(self) -> Any:
        # retry_config left unset: the SDK then does not retry (call() does)
        return Mistral(api_key=self.live.api_key, server_url=self.live.base_url,
                       timeout_ms=int(self.live.timeout * 1000))

    def line(self, custom_id: str, req: Request) -> dict:
        body = self.live.build_request(req)
        body.pop("model", None)  # one model per job, given at creation
        return {"custom_id": custom_id, "body": body}

    def create(self, lines: list[dict], tag: str, model: str) -> tuple[str, str]:
        uploaded = self.call(self.client.files.upload, file={"file_name": f"{tag}.jsonl",
                                                             "content": jsonl(lines)},
                             purpose="batch")
        job = self.call(self.client.batch.jobs.create, input_files=[uploaded.id], model=model,
                        endpoint=ENDPOINT, metadata={"tag": tag}, timeout_hours=24, retry=False)
        return job.id, str(job.status)

    def state(self, batch_id: str) -> BatchState:
        job = self.call(self.client.batch.jobs.get, job_id=batch_id)
        return BatchState(str(job.status), str(job.status) in TERMINAL, job.total_requests or 0,
                          job.completed_requests or 0, job.failed_requests or 0)

    def results(self, batch_id: str) -> list[LineResult]:
        job = self.call(self.client.batch.jobs.get, job_id=batch_id)
        found: list[LineResult] = []
        for file_id in (job.output_file, job.error_file):
            if file_id:
                found += [chat_line_result(self.live, obj)
                          for obj in read_jsonl(self.call(self._download, file_id))]
        return found

    def _download(self, file_id: str) -> bytes:
        response = self.client.files.download(file_id=file_id)
        try:
            return response.read()
        finally:
            response.close()

    def find(self, tag: str, created_after: float, count: int, known: set[str]) -> str | None:
        page = self.call(self.client.batch.jobs.list, page=0, page_size=100)
        for job in page.data or []:
            if (job.metadata or {}).get("tag") == tag:
                return job.id
        return None

    def cancel(self, batch_id: str) -> None:
        self.call(self.client.batch.jobs.cancel, job_id=batch_id)
