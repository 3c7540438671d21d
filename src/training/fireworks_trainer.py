"""Fireworks AI through its documented REST API (httpx2): dataset create + `:upload`, then a
supervised fine-tuning job.

Plain HTTP rather than the `fireworks-ai` SDK: four JSON calls and one multipart upload, no new
dependency, and the SDK's signed-URL helper refuses plain-http test servers. Dataset and job ids
are ours (derived from the file's hash and the run key), so a repeated call finds what exists.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx2

from src.errors import BuilderError, ProviderError
from src.training.base import JobInfo, JobRequest, LocalFile, Trainer, require, short

DEFAULT_BASE_URL = "https://api.fireworks.ai"
ACCOUNT_ENV = "FIREWORKS_ACCOUNT_ID"
READY_WAIT_S = 120.0  # how long an uploaded dataset may take to become READY
GRPC_CODES = {3: "INVALID_ARGUMENT", 5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED",
              8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION", 16: "UNAUTHENTICATED"}


class FireworksTrainer(Trainer):
    provider = "fireworks"
    label = "Fireworks AI"
    key_env = "FIREWORKS_API_KEY"
    key_help = "https://app.fireworks.ai/settings/users/api-keys"
    base_url_env = "FIREWORKS_BASE_URL"
    status_map = {f"JOB_STATE_{k}": v for k, v in {
        "CREATING": "queued", "PENDING": "queued", "VALIDATING": "queued", "IDLE": "queued",
        "CREATING_INPUT_DATASET": "queued", "RE_QUEUEING": "queued", "PAUSED": "queued",
        "RUNNING": "running", "WRITING_RESULTS": "running", "CANCELLING": "cancelling",
        "COMPLETED": "succeeded", "EARLY_STOPPED": "succeeded", "FAILED": "failed",
        "EXPIRED": "failed", "CANCELLED": "cancelled", "DELETING": "cancelled",
        "DELETING_CLEANING_UP": "cancelled"}.items()}
    _http: httpx2.Client | None = None

    def check_ready(self) -> None:
        self.api_key()
        self.account()

    def account(self) -> str:
        return require(self.config.train.fireworks.account_id or os.environ.get(ACCOUNT_ENV, ""),
                       "train.fireworks.account_id",
                       f"set your Fireworks account id there or in .env as {ACCOUNT_ENV} (the "
                       "`accounts/<id>` part of your Fireworks console URL).")

    def destination(self) -> str:
        return f"{super().destination()} accounts/{self.account()}"

    def client(self) -> httpx2.Client:
        if self._http is None:
            root = (self.base_url() or DEFAULT_BASE_URL).rstrip("/")
            self._http = httpx2.Client(
                base_url=f"{root}/v1/accounts/{self.account()}/", timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.api_key()}"},
                transport=httpx2.HTTPTransport(retries=self.retries))
        return self._http

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        return (httpx2.HTTPError,)

    def failure(self, exc: BaseException, doing: str) -> BuilderError:
        if isinstance(exc, httpx2.HTTPStatusError):
            return self.status_failure(*_parts(exc.response), doing)
        return self.status_failure(None, f"{exc.__class__.__name__}: {exc}", doing)

    def request(self, doing: str, method: str, path: str, missing_ok: bool = False,
                **kwargs: Any) -> dict | None:
        """One REST call; a non-2xx reply raises our error (a 404 gives None when `missing_ok`)."""
        def send() -> dict | None:
            response = self.client().request(method, path, **kwargs)
            if missing_ok and response.status_code == 404:
                return None
            response.raise_for_status()
            return response.json() if response.content else {}
        return self.call(doing, send)

    def _need(self, doing: str, method: str, path: str, **kwargs: Any) -> dict:
        return self.request(doing, method, path, **kwargs) or {}

    # ---------------------------------------------------------- datasets

    def upload(self, file: LocalFile) -> str:
        dataset_id = f"ftdb-{file.sha256[:32]}"
        existing = self._dataset(dataset_id)
        if existing is None:
            self.request(f"creating the dataset for {file.filename}", "POST", "datasets", json={
                "datasetId": dataset_id, "dataset": {
                    "userUploaded": {}, "exampleCount": str(file.examples), "format": "CHAT",
                    "displayName": file.filename[:60]}})
        if existing is None or existing.get("state") != "READY":
            with file.path.open("rb") as handle:
                self.request(f"uploading {file.filename}", "POST", f"datasets/{dataset_id}:upload",
                             files={"file": (file.filename, handle, "application/octet-stream")})
            self._wait_ready(dataset_id, file.filename)
        return f"accounts/{self.account()}/datasets/{dataset_id}"

    def _dataset(self, dataset_id: str) -> dict | None:
        return self.request("reading the dataset", "GET", f"datasets/{dataset_id}",
                            missing_ok=True)

    def _wait_ready(self, dataset_id: str, filename: str) -> None:
        deadline = time.monotonic() + READY_WAIT_S
        while True:
            state = (self._dataset(dataset_id) or {}).get("state")
            if state == "READY":
                return
            if time.monotonic() > deadline:
                raise ProviderError(f"Fireworks AI has not made {filename} ready after "
                                    f"{READY_WAIT_S:.0f} s (state {state}): run train again "
                                    "later; the upload is kept.")
            time.sleep(min(2.0, self.config.train.poll_seconds))

    # ---------------------------------------------------------- jobs

    def create_job(self, job: JobRequest) -> JobInfo:
        body: dict[str, Any] = {"dataset": job.files["train"], "baseModel": job.base_model,
                                "displayName": job.display_name[:60]}
        if job.epochs:
            body["epochs"] = job.epochs
        if "validation" in job.files:
            body["evaluationDataset"] = job.files["validation"]
        if job.suffix:
            body["outputModel"] = job.suffix.lower().replace("_", "-")
        reply = self._need("creating the fine-tuning job", "POST", "supervisedFineTuningJobs",
                             params={"supervisedFineTuningJobId": job.job_name}, json=body)
        return self._info(reply)

    def find_job(self, job: JobRequest, known: set[str]) -> JobInfo | None:
        reply = self.request("looking for a job created by an interrupted run", "GET",
                             f"supervisedFineTuningJobs/{job.job_name}", missing_ok=True)
        info = self._info(reply) if reply else None
        return None if info is None or info.job_id in known else info

    def get_job(self, job_id: str) -> JobInfo:
        return self._info(self._need("reading the job", "GET",
                                       f"supervisedFineTuningJobs/{job_id}"))

    def cancel_job(self, job_id: str) -> JobInfo:
        self.request("cancelling the job", "POST", f"supervisedFineTuningJobs/{job_id}:cancel",
                     json={})
        return self.get_job(job_id)

    def _info(self, job: dict) -> JobInfo:
        name = str(job.get("name") or "")
        if not name:
            raise ProviderError("Fireworks AI answered without a job name: run train --status.")
        status = str(job.get("state") or "")
        state = self.state_of(status)
        error = job.get("status") or {}
        cost = job.get("estimatedCost") or {}
        percent = (job.get("jobProgress") or {}).get("percent")
        return JobInfo(
            job_id=name.rsplit("/", 1)[-1], status=status, state=state,
            fine_tuned_model=job.get("outputModel") if state == "succeeded" else None,
            error=short(error.get("message")) if state == "failed" and error else None,
            progress=f"{percent}%" if percent is not None else "",
            cost_usd=(float(cost.get("units") or 0) + float(cost.get("nanos") or 0) / 1e9)
            if cost else None)


def _parts(response: httpx2.Response) -> tuple[int, str, str]:
    """(status, message, code name) of a gRPC-gateway error reply {"code", "message"}."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, short(response.text), ""
    if not isinstance(body, dict):
        return response.status_code, short(body), ""
    code = body.get("code")
    name = GRPC_CODES.get(code, "") if isinstance(code, int) else str(code or "")
    return response.status_code, short(body.get("message") or body), name
