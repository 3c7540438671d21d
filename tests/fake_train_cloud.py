"""Local fakes for `train` on Fireworks AI (REST) and Vertex AI (tuningJobs), plus the two ready-made
local servers: gcp-storage-emulator for Cloud Storage and moto's server mode for S3 + Bedrock."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.fake_train_server import FakeAPI, Reply, Request, parse_multipart

FIREWORKS_MODELS = ("accounts/fireworks/models/qwen3-8b", "accounts/fireworks/models/qwen3-32b")
A = r"/v1/accounts/([^/]+)"


class FireworksFake(FakeAPI):
    def __init__(self) -> None:
        super().__init__(steps=("JOB_STATE_CREATING", "JOB_STATE_RUNNING", "JOB_STATE_COMPLETED"),
                         routes=[
            ("POST", A + r"/datasets", "create_dataset"),
            ("GET", A + r"/datasets/([^/:]+)", "get_dataset"),
            ("POST", A + r"/datasets/([^/:]+):upload", "upload"),
            ("POST", A + r"/supervisedFineTuningJobs", "create_job"),
            ("GET", A + r"/supervisedFineTuningJobs/([^/:]+)", "get_job"),
            ("POST", A + r"/supervisedFineTuningJobs/([^/:]+):cancel", "cancel_job")])
        self.datasets: dict[str, dict] = {}

    def do_create_dataset(self, req: Request, account: str) -> Reply:
        body = req.json()
        name = f"accounts/{account}/datasets/{body['datasetId']}"
        if name in self.datasets:
            return 409, {"code": 6, "message": f"dataset {name} already exists", "details": []}, {}
        self.datasets[name] = {"name": name, "state": "UPLOADING", **body["dataset"]}
        return 200, self.datasets[name], {}

    def do_get_dataset(self, req: Request, account: str, dataset_id: str) -> Reply:
        name = f"accounts/{account}/datasets/{dataset_id}"
        if name not in self.datasets:
            return 404, {"code": 5, "message": f"dataset {name} not found", "details": []}, {}
        return 200, self.datasets[name], {}

    def do_upload(self, req: Request, account: str, dataset_id: str) -> Reply:
        name = f"accounts/{account}/datasets/{dataset_id}"
        filename, data = parse_multipart(req.headers["Content-Type"], req.body)["file"]
        self.files[name] = data
        self.datasets[name]["state"] = "READY"
        return 200, {"id": dataset_id, "bytes": len(data), "filename": filename}, {}

    def do_create_job(self, req: Request, account: str) -> Reply:
        body, job_id = req.json(), req.query["supervisedFineTuningJobId"][0]
        if body["baseModel"] not in FIREWORKS_MODELS:
            return 400, {"code": 3, "message": f"base model {body['baseModel']} is not tunable",
                         "details": []}, {}
        if body["dataset"] not in self.datasets:
            return 404, {"code": 5, "message": f"dataset {body['dataset']} not found"}, {}
        name = f"accounts/{account}/supervisedFineTuningJobs/{job_id}"
        if job_id in self.jobs:
            return 409, {"code": 6, "message": f"job {name} already exists"}, {}
        self.jobs[job_id] = {**body, "name": name, "state": self.steps[0], "_step": 0,
                             "createTime": "2026-12-05T00:00:00Z",
                             "estimatedCost": {"currencyCode": "USD", "units": "2",
                                               "nanos": 500000000}}
        return 200, self.public(self.jobs[job_id]), {}

    def do_get_job(self, req: Request, account: str, job_id: str) -> Reply:
        if job_id not in self.jobs:
            return 404, {"code": 5, "message": f"job {job_id} not found", "details": []}, {}
        return 200, self.public(self.advance(job_id)), {}

    def on_state(self, job: dict, state: str) -> None:
        job["state"] = state
        job["jobProgress"] = {"percent": 100 if state == "JOB_STATE_COMPLETED" else 50}
        if state == "JOB_STATE_COMPLETED" and self.outcome == "failure":
            job.update(state="JOB_STATE_FAILED", status={"code": "INVALID_ARGUMENT",
                                                         "message": "dataset line 2 is invalid"})
        elif state == "JOB_STATE_COMPLETED":
            account = job["name"].split("/")[1]
            job["outputModel"] = f"accounts/{account}/models/{job.get('outputModel') or 'ft-x'}"

    def do_cancel_job(self, req: Request, account: str, job_id: str) -> Reply:
        self.jobs[job_id].update(state="JOB_STATE_CANCELLED", _stopped=True)
        return 200, {}, {}


VERTEX_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite")
V = r"/v1beta1/(projects/[^/]+/locations/[^/]+)"


class VertexFake(FakeAPI):
    def __init__(self) -> None:
        super().__init__(steps=("JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"),
                         routes=[("POST", V + r"/tuningJobs", "create_job"),
                                 ("GET", V + r"/tuningJobs", "list_jobs"),
                                 ("GET", V + r"/tuningJobs/([^/:]+)", "get_job"),
                                 ("POST", V + r"/tuningJobs/([^/:]+):cancel", "cancel_job")])

    def do_create_job(self, req: Request, parent: str) -> Reply:
        body = req.json()
        if body["baseModel"] not in VERTEX_MODELS:
            return 400, {"error": {"code": 400, "message": "Base model is not supported for "
                                   "tuning", "status": "INVALID_ARGUMENT"}}, {}
        job_id = str(100 + len(self.jobs))
        self.jobs[job_id] = {**body, "name": f"{parent}/tuningJobs/{job_id}", "_step": 0,
                             "state": self.steps[0], "createTime": "2026-12-05T00:00:00Z"}
        return 200, self.public(self.jobs[job_id]), {}

    def do_list_jobs(self, req: Request, parent: str) -> Reply:
        return 200, {"tuningJobs": [self.public(j) for j in self.jobs.values()]}, {}

    def do_get_job(self, req: Request, parent: str, job_id: str) -> Reply:
        if job_id not in self.jobs:
            return 404, {"error": {"code": 404, "message": "TuningJob not found",
                                   "status": "NOT_FOUND"}}, {}
        return 200, self.public(self.advance(job_id)), {}

    def on_state(self, job: dict, state: str) -> None:
        job["state"] = state
        parent = job["name"].rsplit("/tuningJobs/", 1)[0]
        if state == "JOB_STATE_SUCCEEDED" and self.outcome == "failure":
            job.update(state="JOB_STATE_FAILED", error={"code": 3, "message": "bad dataset"})
        elif state == "JOB_STATE_SUCCEEDED":
            job["tunedModel"] = {"model": f"{parent}/models/777@1",
                                 "endpoint": f"{parent}/endpoints/888"}

    def do_cancel_job(self, req: Request, parent: str, job_id: str) -> Reply:
        self.jobs[job_id].update(state="JOB_STATE_CANCELLED", _stopped=True)
        return 200, {}, {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gcs_emulator(bucket: str) -> Iterator[tuple[str, list[bytes]]]:
    """gcp-storage-emulator in this process, with `bucket` made; yields (URL, every object's bytes
    as each upload stored them, in order)."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
    storage, received = server._storage, []  # the emulator's own store: record what it keeps
    create_file = storage.create_file

    def recording(bucket_name: str, file_name: str, content: bytes, *args: Any, **kw: Any) -> Any:
        received.append(bytes(content))
        return create_file(bucket_name, file_name, content, *args, **kw)

    storage.create_file = recording
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.stop()


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's ThreadedMotoServer (S3 + Bedrock) on 127.0.0.1; yields its URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()  # moto's backends live in this process: start empty
    try:
        yield url
    finally:
        server.stop()


def bedrock_jobs(region: str = "us-east-1") -> dict[str, Any]:
    """moto's in-process Bedrock jobs by name (moto never moves a job on: tests set `status`)."""
    from moto.bedrock.models import bedrock_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    return bedrock_backends[DEFAULT_ACCOUNT_ID][region].model_customization_jobs
