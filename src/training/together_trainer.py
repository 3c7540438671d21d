"""Together AI: `files.upload` (302 to a signed URL, PUT, preprocess) then `fine_tuning.create`.

LoRA by default (`lora=True`). The SDK itself asks for the model's limits and a price estimate
before it creates the job; we ask for the estimate once more to keep the quoted price with the job.
"""

from __future__ import annotations

from typing import Any

from src.errors import BuilderError, ProviderError
from src.training.base import JobInfo, JobRequest, LocalFile, Trainer, short, status_parts, word

BAD_FILE_STATES = ("FAILED", "INVALID_FORMAT")


class TogetherTrainer(Trainer):
    provider = "together"
    label = "Together AI"
    key_env = "TOGETHER_API_KEY"
    key_help = "https://api.together.ai/settings/api-keys"
    base_url_env = "TOGETHER_BASE_URL"
    default_epochs = 1  # the SDK's default n_epochs
    status_map = {"pending": "queued", "queued": "queued", "running": "running",
                  "compressing": "running", "uploading": "running",
                  "cancel_requested": "cancelling", "cancelled": "cancelled", "error": "failed",
                  "user_error": "failed", "completed": "succeeded"}
    _sdk: Any = None

    def client(self) -> Any:
        if self._sdk is None:
            import together  # the SDK loads only when Together is the training provider

            self._sdk = together.Together(api_key=self.api_key(), base_url=self.base_url(),
                                          max_retries=self.retries, timeout=self.timeout)
        return self._sdk

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        import together

        return (together.TogetherError,)

    def failure(self, exc: BaseException, doing: str) -> BuilderError:
        import together

        if isinstance(exc, together.APIStatusError | together.APIConnectionError):
            status, message, code = status_parts(exc)
            return self.status_failure(status, message, doing, code)
        # the SDK's own file check (FileTypeError) and other local refusals
        return ProviderError(f"Together AI's SDK refused {doing}: {short(exc)}")

    def upload(self, file: LocalFile) -> str:
        uploaded = self.call(f"uploading {file.filename}", self.client().files.upload,
                             file=file.path, purpose="fine-tune", check=True)
        state = word(getattr(uploaded, "processing_status", ""))
        if state in BAD_FILE_STATES:
            raise ProviderError(f"Together AI did not accept {file.filename} ({state}): "
                                f"{short(getattr(uploaded, 'validation_report', '') or '')}")
        return str(uploaded.id)

    def create_job(self, job: JobRequest) -> JobInfo:
        common: dict[str, Any] = {"training_file": job.files["train"], "model": job.base_model,
                                  "n_epochs": job.epochs or self.default_epochs,
                                  "n_evals": 1 if "validation" in job.files else 0}
        if "validation" in job.files:  # one evaluation at the end, on the validation split
            common["validation_file"] = job.files["validation"]
        estimate = self.call("estimating the price", self.client().fine_tuning.estimate_price,
                             training_method={"method": "sft", "train_on_inputs": "auto"},
                             **common)
        # validation_file None leaves it out; the SDK's own default "" is sent as an empty string
        validation = common.pop("validation_file", None)
        created = self.call("creating the fine-tuning job", self.client().fine_tuning.create,
                            lora=True, suffix=job.suffix, train_on_inputs="auto",
                            validation_file=validation, **common)
        info = self._info(created)
        if getattr(estimate, "estimation_available", False):
            info.cost_usd = getattr(estimate, "estimated_total_price", None)
        return info

    def find_job(self, job: JobRequest, known: set[str]) -> JobInfo | None:
        listed = self.call("looking for a job created by an interrupted run",
                           self.client().fine_tuning.list)
        for item in getattr(listed, "data", None) or []:
            if (item.id not in known and getattr(item, "training_file", None) == job.files["train"]
                    and getattr(item, "model", None) == job.base_model
                    and (not job.suffix or getattr(item, "suffix", None) in (None, job.suffix))):
                return self._info(item)
        return None

    def get_job(self, job_id: str) -> JobInfo:
        return self._info(self.call("reading the job", self.client().fine_tuning.retrieve, job_id))

    def cancel_job(self, job_id: str) -> JobInfo:
        return self._info(self.call("cancelling the job", self.client().fine_tuning.cancel, job_id))

    def _info(self, job: Any) -> JobInfo:
        status = word(getattr(job, "status", ""))
        output = (getattr(job, "output_name", None) or getattr(job, "x_model_output_name", None)
                  or getattr(job, "model_output_name", None))
        state = self.state_of(status)
        error = None
        if state == "failed":
            events = getattr(job, "events", None) or []
            error = short(getattr(events[-1], "message", "") if events else status)
        return JobInfo(job_id=str(job.id), status=status, state=state,
                       fine_tuned_model=output if state == "succeeded" else None, error=error)
