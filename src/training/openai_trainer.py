"""OpenAI: `files.create(purpose="fine-tune")` then `fine_tuning.jobs.create` with `method`.

`hyperparameters` is deprecated in favour of `method={"type": "supervised", ...}`; the run key goes
in the job's metadata so that a run stopped during the create call finds its job again.
"""

from __future__ import annotations

from typing import Any

from src.config import base_url as configured_base_url
from src.errors import BuilderError, ProviderError
from src.training.base import JobInfo, JobRequest, LocalFile, Trainer, short, status_parts, word

LIST_LIMIT = 100  # the most recent jobs: a job lost by a killed run is among them


class OpenAITrainer(Trainer):
    provider = "openai"
    label = "OpenAI"
    key_env = "OPENAI_API_KEY"
    key_help = "https://platform.openai.com/api-keys"
    base_url_env = "OPENAI_BASE_URL"
    status_map = {"validating_files": "queued", "queued": "queued", "running": "running",
                  "succeeded": "succeeded", "failed": "failed", "cancelled": "cancelled"}
    _sdk: Any = None

    def base_url(self) -> str | None:
        return configured_base_url("openai", self.config)

    def client(self) -> Any:
        if self._sdk is None:
            import openai  # the SDK loads only when OpenAI is the training provider

            self._sdk = openai.OpenAI(api_key=self.api_key(), base_url=self.base_url(),
                                      max_retries=self.retries, timeout=self.timeout)
        return self._sdk

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        import openai

        return (openai.APIError,)

    def failure(self, exc: BaseException, doing: str) -> BuilderError:
        status, message, code = status_parts(exc)
        return self.status_failure(status, message, doing, code)

    def upload(self, file: LocalFile) -> str:
        with file.path.open("rb") as handle:
            uploaded = self.call(f"uploading {file.filename}", self.client().files.create,
                                 file=(file.filename, handle), purpose="fine-tune")
        return str(uploaded.id)

    def create_job(self, job: JobRequest) -> JobInfo:
        hyper = {"n_epochs": job.epochs} if job.epochs else {}
        kwargs: dict[str, Any] = {
            "model": job.base_model, "training_file": job.files["train"],
            "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}},
            "metadata": {"run_key": job.run_key, "dataset": job.display_name[:500]}}
        if "validation" in job.files:
            kwargs["validation_file"] = job.files["validation"]
        if job.suffix:
            kwargs["suffix"] = job.suffix
        return self._info(self.call("creating the fine-tuning job",
                                    self.client().fine_tuning.jobs.create, **kwargs))

    def find_job(self, job: JobRequest, known: set[str]) -> JobInfo | None:
        page = self.call("looking for a job created by an interrupted run",
                         self.client().fine_tuning.jobs.list, limit=LIST_LIMIT)
        for item in page.data:
            metadata = getattr(item, "metadata", None) or {}
            if (item.id not in known and item.training_file == job.files["train"]
                    and metadata.get("run_key", job.run_key) == job.run_key):
                return self._info(item)
        return None

    def get_job(self, job_id: str) -> JobInfo:
        return self._info(self.call("reading the job", self.client().fine_tuning.jobs.retrieve,
                                    job_id))

    def cancel_job(self, job_id: str) -> JobInfo:
        return self._info(self.call("cancelling the job", self.client().fine_tuning.jobs.cancel,
                                    job_id))

    def _info(self, job: Any) -> JobInfo:
        if not getattr(job, "id", None):
            raise ProviderError("OpenAI answered without a job id: run train --status to check.")
        error = getattr(job, "error", None)
        text = None
        if error is not None and (error.message or error.code):
            text = short(f"{error.code or 'error'}: {error.message or ''}"
                         + (f" (param {error.param})" if error.param else ""))
        status = word(job.status)
        return JobInfo(job_id=job.id, status=status, state=self.state_of(status),
                       fine_tuned_model=job.fine_tuned_model, error=text,
                       extra={"trained_tokens": getattr(job, "trained_tokens", None)})
