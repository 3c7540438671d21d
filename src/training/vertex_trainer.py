"""Google Vertex AI: the JSONL goes to Cloud Storage (google-cloud-storage), then
`client.tunings.tune(...)` with google-genai on Vertex.

Credentials come from the environment only: GOOGLE_OAUTH_ACCESS_TOKEN (e.g. `gcloud auth
print-access-token`), else Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS or
`gcloud auth application-default login`). STORAGE_EMULATOR_HOST and GOOGLE_VERTEX_BASE_URL point
the two clients elsewhere (the tests' local servers).
"""

from __future__ import annotations

import itertools
import os
import warnings
from typing import Any

from src.errors import AuthError, BuilderError, ProviderError
from src.training.base import JobInfo, JobRequest, LocalFile, Trainer, require, short, word

TOKEN_ENV = "GOOGLE_OAUTH_ACCESS_TOKEN"
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
LIST_LIMIT = 100  # recent jobs searched for one lost by a killed run
LABEL = "ftdb_run"  # label carrying the run key, so that job can be found again


class VertexTrainer(Trainer):
    provider = "google"
    label = "Vertex AI"
    key_env = TOKEN_ENV
    key_help = ("an access token from `gcloud auth print-access-token`; or leave it empty and set "
                "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file")
    base_url_env = "GOOGLE_VERTEX_BASE_URL"
    status_map = {f"JOB_STATE_{k}": v for k, v in {
        "QUEUED": "queued", "PENDING": "queued", "PAUSED": "queued", "RUNNING": "running",
        "UPDATING": "running", "SUCCEEDED": "succeeded", "PARTIALLY_SUCCEEDED": "succeeded",
        "FAILED": "failed", "EXPIRED": "failed", "CANCELLING": "cancelling",
        "CANCELLED": "cancelled"}.items()}
    _credentials: Any = None
    _adc_project: str | None = None
    _genai: Any = None

    def check_ready(self) -> None:
        self.credentials()
        self.project()
        self.bucket()

    def credentials(self) -> Any:
        if self._credentials is not None:
            return self._credentials
        # google-auth loads only when Vertex is the training provider
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
        from google.oauth2.credentials import Credentials

        token = os.environ.get(TOKEN_ENV, "").strip()
        if token:
            self._credentials = Credentials(token=token)
            return self._credentials
        try:
            self._credentials, self._adc_project = google.auth.default(scopes=SCOPES)
        except DefaultCredentialsError:
            raise AuthError(f"No Google Cloud credential: set {TOKEN_ENV} in .env ({self.key_help}"
                            "), then run train again.") from None
        return self._credentials

    def project(self) -> str:
        return require(self.config.train.google.project or os.environ.get(PROJECT_ENV, "")
                       or self._adc_project or "", "train.google.project",
                       f"set your Google Cloud project id there (or {PROJECT_ENV} in .env).")

    def bucket(self) -> tuple[str, str]:
        """(bucket, object prefix) from train.google.gcs_bucket ("bucket" or "gs://bucket/prefix")."""
        text = require(self.config.train.google.gcs_bucket, "train.google.gcs_bucket",
                       "name a Cloud Storage bucket Vertex AI can read (gs://bucket/prefix).")
        bucket, _, prefix = text.removeprefix("gs://").strip("/").partition("/")
        return bucket, f"{prefix}/" if prefix else ""

    def destination(self) -> str:
        bucket, prefix = self.bucket()
        return f"gs://{bucket}/{prefix} {os.environ.get('STORAGE_EMULATOR_HOST', '')}".strip()

    def client(self) -> Any:
        if self._genai is None:
            from google import genai  # google-genai loads only for a Vertex training run
            from google.genai import types

            options = types.HttpOptions(base_url=self.base_url(), timeout=int(self.timeout * 1000),
                                        retry_options=types.HttpRetryOptions(
                                            attempts=self.retries + 1))
            self._genai = genai.Client(vertexai=True, project=self.project(),
                                       location=self.config.train.google.location,
                                       credentials=self.credentials(), http_options=options)
        return self._genai

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        import google.auth.exceptions
        import httpx
        import httpx2
        import requests
        from google.api_core import exceptions as api_exceptions
        from google.genai import errors
        from google.resumable_media import common

        return (errors.APIError, api_exceptions.GoogleAPIError, google.auth.exceptions.GoogleAuthError,
                common.InvalidResponse, common.DataCorruption, requests.RequestException,
                httpx.TransportError, httpx2.TransportError)

    def failure(self, exc: BaseException, doing: str) -> BuilderError:
        import google.auth.exceptions
        from google.api_core import exceptions as api_exceptions
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            return self.status_failure(exc.code, exc.message or str(exc), doing, exc.status or "")
        if isinstance(exc, api_exceptions.GoogleAPICallError):
            return self.status_failure(exc.code, exc.message, doing)
        if isinstance(exc, google.auth.exceptions.GoogleAuthError):
            return self.status_failure(401, str(exc), doing)
        return self.status_failure(None, f"{exc.__class__.__name__}: {exc}", doing)

    # ---------------------------------------------------------- upload and jobs

    def upload(self, file: LocalFile) -> str:
        from google.cloud import storage  # loads only for a Vertex training run

        bucket, prefix = self.bucket()
        client = storage.Client(project=self.project(), credentials=self.credentials())
        blob = client.bucket(bucket).blob(prefix + file.filename)
        self.call(f"uploading {file.filename} to gs://{bucket}", blob.upload_from_filename,
                  str(file.path), content_type="application/jsonl")
        return f"gs://{bucket}/{prefix}{file.filename}"

    def create_job(self, job: JobRequest) -> JobInfo:
        from google.genai import types

        config = types.CreateTuningJobConfig(
            epoch_count=job.epochs, tuned_model_display_name=job.suffix or job.display_name[:120],
            labels={LABEL: job.run_key[:63]},
            validation_dataset=types.TuningValidationDataset(gcs_uri=job.files["validation"])
            if "validation" in job.files else None)
        with warnings.catch_warnings():  # "tuning is experimental": said once per call, not ours
            warnings.simplefilter("ignore")
            created = self.call("creating the tuning job", self.client().tunings.tune,
                                base_model=job.base_model, config=config,
                                training_dataset=types.TuningDataset(gcs_uri=job.files["train"]))
        return self._info(created)

    def find_job(self, job: JobRequest, known: set[str]) -> JobInfo | None:
        pager = self.call("looking for a job created by an interrupted run",
                          self.client().tunings.list, config={"page_size": LIST_LIMIT})
        for item in itertools.islice(pager, LIST_LIMIT):
            if (item.labels or {}).get(LABEL) == job.run_key[:63] and item.name not in known:
                return self._info(item)
        return None

    def get_job(self, job_id: str) -> JobInfo:
        return self._info(self.call("reading the job", self.client().tunings.get, name=job_id))

    def cancel_job(self, job_id: str) -> JobInfo:
        self.call("cancelling the job", self.client().tunings.cancel, name=job_id)
        return self.get_job(job_id)

    def _info(self, job: Any) -> JobInfo:
        if not getattr(job, "name", None):
            raise ProviderError("Vertex AI answered without a job name: run train --status.")
        status = word(job.state)
        state = self.state_of(status)
        tuned = job.tuned_model
        model = tuned.model if tuned is not None and state == "succeeded" else None
        error = short(job.error.message) if job.error is not None and job.error.message else None
        return JobInfo(job_id=job.name, status=status, state=state, fine_tuned_model=model,
                       error=error, extra={"endpoint": getattr(tuned, "endpoint", None)})
