"""`train` test sites: each provider's local server(s), its environment, and what it received.

A Site says how many uploads and job creations the server saw and which bytes arrived, so tests
assert on the wire, never on our own functions. Nothing here reaches a non-loopback address: the
Google clients get an explicit token and NO_GCE_CHECK, boto3 gets fixed keys and no metadata
lookup, and every base URL is a 127.0.0.1 server.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from src.config import output_root
from tests.fake_train_cloud import FireworksFake, VertexFake, bedrock_jobs, gcs_emulator, moto_server
from tests.fake_train_server import FakeAPI, OpenAIFake, TogetherFake, parse_multipart

# read when google.auth is imported: never ask the GCE metadata server (169.254.169.254)
os.environ["NO_GCE_CHECK"] = "true"
PROVIDERS = ("openai", "together", "fireworks", "google", "amazon")
KEYS = {"OPENAI_API_KEY": "sk-test-openai-0123456789", "TOGETHER_API_KEY": "tg-test-0123456789",
        "FIREWORKS_API_KEY": "fw-test-0123456789", "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.fake-token-99",
        "AWS_ACCESS_KEY_ID": "AKIATESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "aws-secret-test-0123"}
CLEARED = ("OPENAI_BASE_URL", "TOGETHER_BASE_URL", "FIREWORKS_BASE_URL", "FIREWORKS_ACCOUNT_ID",
           "GOOGLE_VERTEX_BASE_URL", "GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS",
           "STORAGE_EMULATOR_HOST", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
           "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_BEDROCK", "AWS_DEFAULT_REGION",
           "OPENAI_CUSTOM_HEADERS", "TOGETHER_CUSTOM_HEADERS", *KEYS)
BUCKET = "tune-bucket"
CONFIG = """provider: "openai"
model: "gpt-4o-mini"
system: {max_retries: 0, timeout: 5}
train:
  poll_seconds: 0.01
  amazon: {role_arn: "arn:aws:iam::123456789012:role/BedrockTuning", s3_bucket: "s3://BUCKET/ftdb"}
  google: {project: "proj1", location: "us-central1", gcs_bucket: "gs://BUCKET/ftdb"}
  fireworks: {account_id: "acct1"}
""".replace("BUCKET", BUCKET)


@dataclass
class Site:
    """One provider's local server(s) as a test sees them."""

    provider: str
    env: dict[str, str]
    uploads: Callable[[], list[bytes]]  # the bytes of every upload received, in order
    creates: Callable[[], list[dict]]  # the body of every job-create request received
    finish: Callable[[str], None] = lambda state: None  # make the job end (moto never does)
    fake: FakeAPI | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def loopback_guard(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse (and list) every connection to anything but this machine."""
    real, refused = socket.socket.connect, []

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("/"):
            refused.append(str(host))
            raise OSError(f"test tried to reach {host}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return refused


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "train_config.yaml"
    path.write_text(CONFIG, "utf-8")
    return path


def exported(provider: str, role: str = "train", name: str = "handbook") -> Path:
    """The export the upload must equal (the dataset's own format sits in <name>/)."""
    own = provider == "openai"  # export_helpers.store targets openai
    folder = output_root() / name / ("" if own else provider)
    return folder / (f"{name}_{role}.jsonl" if own else f"{name}_{provider}_{role}.jsonl")


def _multipart_files(fake: FakeAPI, route: str) -> list[bytes]:
    return [parse_multipart(r.headers["Content-Type"], r.body)["file"][1]
            for r in fake.calls(route)]


def _bodies(fake: FakeAPI) -> list[dict]:
    return [r.json() for r in fake.calls("create_job")]


@contextmanager
def site(provider: str) -> Iterator[Site]:
    """Start the provider's local server(s); yields the Site with the environment to use."""
    with ExitStack() as stack:
        yield SITES[provider](stack)


def _openai(stack: ExitStack) -> Site:
    fake = stack.enter_context(OpenAIFake())
    return Site("openai", {"OPENAI_API_KEY": KEYS["OPENAI_API_KEY"],
                           "OPENAI_BASE_URL": fake.url + "/v1"},
                lambda: _multipart_files(fake, "upload"), lambda: _bodies(fake), fake=fake)


def _together(stack: ExitStack) -> Site:
    fake = stack.enter_context(TogetherFake())
    return Site("together", {"TOGETHER_API_KEY": KEYS["TOGETHER_API_KEY"],
                             "TOGETHER_BASE_URL": fake.url},
                lambda: [r.body for r in fake.calls("put_bytes")], lambda: _bodies(fake),
                fake=fake)


def _fireworks(stack: ExitStack) -> Site:
    fake = stack.enter_context(FireworksFake())
    return Site("fireworks", {"FIREWORKS_API_KEY": KEYS["FIREWORKS_API_KEY"],
                              "FIREWORKS_BASE_URL": fake.url},
                lambda: _multipart_files(fake, "upload"), lambda: _bodies(fake), fake=fake)


def _google(stack: ExitStack) -> Site:
    fake = stack.enter_context(VertexFake())
    emulator, received = stack.enter_context(gcs_emulator(BUCKET))
    return Site("google", {"GOOGLE_OAUTH_ACCESS_TOKEN": KEYS["GOOGLE_OAUTH_ACCESS_TOKEN"],
                           "GOOGLE_VERTEX_BASE_URL": fake.url, "STORAGE_EMULATOR_HOST": emulator},
                lambda: list(received), lambda: _bodies(fake), fake=fake)


def _amazon(stack: ExitStack) -> Site:
    import boto3

    url = stack.enter_context(moto_server())
    env = {"AWS_ACCESS_KEY_ID": KEYS["AWS_ACCESS_KEY_ID"], "AWS_ENDPOINT_URL": url,
           "AWS_SECRET_ACCESS_KEY": KEYS["AWS_SECRET_ACCESS_KEY"]}
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=url,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    bedrock = boto3.client("bedrock", region_name="us-east-1", endpoint_url=url,
                           aws_access_key_id="testing", aws_secret_access_key="testing")

    def uploads() -> list[bytes]:  # every version of every object: one per PUT
        versions = s3.list_object_versions(Bucket=BUCKET).get("Versions", [])
        return [s3.get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
                for v in sorted(versions, key=lambda v: v["LastModified"])
                if "/output/" not in v["Key"]]

    def creates() -> list[dict]:
        listed = bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
        return [bedrock.get_model_customization_job(jobIdentifier=j["jobName"]) for j in listed]

    def finish(state: str) -> None:
        for job in bedrock_jobs().values():
            job.status = state
            if state == "Failed":
                job.failure_message = "Data validation failed: line 2"

    return Site("amazon", env, uploads, creates, finish)


SITES: dict[str, Callable[[ExitStack], Site]] = {
    "openai": _openai, "together": _together, "fireworks": _fireworks, "google": _google,
    "amazon": _amazon}


@pytest.fixture(name="cfg")
def cfg_fixture(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A config for the local servers; no credential of the developer's; loopback only."""
    refused = loopback_guard(monkeypatch)
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))  # no ADC of the developer
    yield write_config(tmp_path)
    assert not refused, f"a test tried to reach {refused}"


@pytest.fixture(name="at")
def at_fixture(monkeypatch: pytest.MonkeyPatch):
    """Enter a provider's Site with its environment set."""
    def enter(s: Site) -> Site:
        for key, value in s.env.items():
            monkeypatch.setenv(key, value)
        return s
    return enter
