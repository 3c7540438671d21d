"""Amazon Bedrock (Nova): the JSONL goes to S3, then `create_model_customization_job` (boto3).

The role ARN and the bucket come from config.yaml (`train.amazon`); keys never do: boto3 reads
them from the environment or the AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, SSO). AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_BEDROCK point the clients elsewhere
(the tests' moto server). Jobs are named by us and looked up by that name.
"""

from __future__ import annotations

import re
from typing import Any

from src.errors import AuthError, BuilderError, ConfigError
from src.training.base import JobInfo, JobRequest, LocalFile, Trainer, require, short

ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/.+$")
CODE_STATUS = {"ThrottlingException": 429, "ServiceQuotaExceededException": 429,
               "AccessDeniedException": 403, "UnrecognizedClientException": 401,
               "ExpiredTokenException": 401, "InvalidClientTokenId": 401,
               "SignatureDoesNotMatch": 401, "ResourceNotFoundException": 404, "NoSuchBucket": 404,
               "ValidationException": 400, "ConflictException": 409,
               "ResourceInUseException": 409, "InternalServerException": 500}
CREDENTIAL_HELP = ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in .env (IAM console > Users > "
                   "Security credentials > Create access key), or AWS_PROFILE for a profile of "
                   "~/.aws/credentials")


class BedrockTrainer(Trainer):
    provider = "amazon"
    label = "Amazon Bedrock"
    key_help = CREDENTIAL_HELP
    base_url_env = "AWS_ENDPOINT_URL_BEDROCK"
    status_map = {"InProgress": "running", "Completed": "succeeded", "Failed": "failed",
                  "Stopping": "cancelling", "Stopped": "cancelled"}
    _session: Any = None
    _clients: dict[str, Any] | None = None

    def check_ready(self) -> None:
        self.role_arn()
        self.bucket()
        if self.session().get_credentials() is None:
            raise AuthError(f"No AWS credentials: {CREDENTIAL_HELP}; then run train again.")

    def session(self) -> Any:
        if self._session is None:
            import boto3  # boto3 loads only when Amazon Bedrock is the training provider

            self._session = boto3.Session(region_name=self.config.train.amazon.region)
        return self._session

    def aws(self, service: str) -> Any:
        from botocore.config import Config as BotoConfig

        self._clients = self._clients or {}
        if service not in self._clients:
            self._clients[service] = self.session().client(service, config=BotoConfig(
                retries={"max_attempts": self.retries + 1, "mode": "standard"},
                connect_timeout=self.timeout, read_timeout=self.timeout))
        return self._clients[service]

    def role_arn(self) -> str:
        arn = require(self.config.train.amazon.role_arn, "train.amazon.role_arn",
                      "the IAM role Bedrock assumes to read the data from S3 and write the model "
                      "(arn:aws:iam::<account>:role/<name>; see the README's Amazon section).")
        if not ROLE_ARN.match(arn):
            raise ConfigError(f"train.amazon.role_arn {arn!r} is not an IAM role ARN: write it as "
                              "arn:aws:iam::123456789012:role/NAME.")
        return arn

    def bucket(self) -> tuple[str, str]:
        """(bucket, key prefix) from train.amazon.s3_bucket ("bucket" or "s3://bucket/prefix")."""
        text = require(self.config.train.amazon.s3_bucket, "train.amazon.s3_bucket",
                       "name an S3 bucket in the job's region that the role can read and write.")
        bucket, _, prefix = text.removeprefix("s3://").strip("/").partition("/")
        return bucket, f"{prefix}/" if prefix else ""

    def destination(self) -> str:
        bucket, prefix = self.bucket()
        return f"s3://{bucket}/{prefix} {self.config.train.amazon.region}"

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        import boto3.exceptions
        import botocore.exceptions

        return (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
                boto3.exceptions.Boto3Error)

    def failure(self, exc: BaseException, doing: str) -> BuilderError:
        import botocore.exceptions

        cause = exc.__context__ if not isinstance(exc, botocore.exceptions.ClientError) and \
            isinstance(exc.__context__, botocore.exceptions.ClientError) else exc
        if isinstance(cause, botocore.exceptions.ClientError):
            error = cause.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = CODE_STATUS.get(code) or cause.response.get(
                "ResponseMetadata", {}).get("HTTPStatusCode")
            return self.status_failure(status, error.get("Message") or str(cause), doing, code)
        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            return AuthError(f"No AWS credentials while {doing}: {CREDENTIAL_HELP}.")
        return self.status_failure(None, f"{exc.__class__.__name__}: {exc}", doing)

    # ---------------------------------------------------------- upload and jobs

    def upload(self, file: LocalFile) -> str:
        bucket, prefix = self.bucket()
        self.call(f"uploading {file.filename} to s3://{bucket}", self.aws("s3").upload_file,
                  str(file.path), bucket, prefix + file.filename)
        return f"s3://{bucket}/{prefix}{file.filename}"

    def create_job(self, job: JobRequest) -> JobInfo:
        bucket, prefix = self.bucket()
        request: dict[str, Any] = {
            "jobName": job.job_name, "customModelName": model_name(job), "roleArn": self.role_arn(),
            "baseModelIdentifier": job.base_model, "customizationType": "FINE_TUNING",
            "clientRequestToken": job.job_name,
            "trainingDataConfig": {"s3Uri": job.files["train"]},
            "outputDataConfig": {"s3Uri": f"s3://{bucket}/{prefix}output/{job.job_name}/"}}
        if job.epochs:  # Nova takes epochCount, learningRate, learningRateWarmupSteps (strings)
            request["hyperParameters"] = {"epochCount": str(job.epochs)}
        if "validation" in job.files:
            request["validationDataConfig"] = {"validators": [{"s3Uri": job.files["validation"]}]}
        self.call("creating the model customization job",
                  self.aws("bedrock").create_model_customization_job, **request)
        return self.get_job(job.job_name)  # look jobs up by name (moto finds no ARN)

    def find_job(self, job: JobRequest, known: set[str]) -> JobInfo | None:
        found = self.call("looking for a job created by an interrupted run", self._job_or_none,
                          job.job_name)
        info = self._info(found, job.job_name) if found else None
        return None if info is None or info.job_id in known else info

    def _job_or_none(self, name: str) -> dict | None:
        import botocore.exceptions

        try:
            return dict(self.aws("bedrock").get_model_customization_job(jobIdentifier=name))
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise

    def get_job(self, job_id: str) -> JobInfo:
        return self._info(self.call("reading the job",
                                    self.aws("bedrock").get_model_customization_job,
                                    jobIdentifier=job_id), job_id)

    def _info(self, job: dict, job_id: str) -> JobInfo:
        status = str(job.get("status") or "")
        state = self.state_of(status)
        return JobInfo(job_id=str(job.get("jobName") or job_id), status=status, state=state,
                       fine_tuned_model=job.get("outputModelArn") if state == "succeeded" else None,
                       error=short(job.get("failureMessage")) if state == "failed" else None,
                       extra={"job_arn": job.get("jobArn")})

    def cancel_job(self, job_id: str) -> JobInfo:
        self.call("stopping the job", self.aws("bedrock").stop_model_customization_job,
                  jobIdentifier=job_id)
        return self.get_job(job_id)


def model_name(job: JobRequest) -> str:
    """customModelName: letters and digits with single '-' between, at most 63 characters."""
    stem = re.sub(r"[^0-9A-Za-z]+", "-", job.suffix or job.display_name).strip("-") or "model"
    tail = job.job_name.removeprefix("ftdb-")
    return f"{stem[:62 - len(tail)].strip('-')}-{tail}"
