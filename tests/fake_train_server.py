"""Local fakes of the fine-tuning APIs `train` calls: OpenAI, Together AI, Fireworks AI, Vertex AI.

Stdlib ThreadingHTTPServer on 127.0.0.1:0, one per provider, speaking the wire format the pinned
SDKs send (recorded in /work/notes/train_apis.md). Each records every request, keeps uploaded
bytes, and walks a job through the provider's states, one step per read. Faults: `fail[route]`
answers with an error (`fail_once`: the next request only); `hang` holds a route's requests
unanswered (the kill tests); with `create_then_hang` a create makes the job, then never answers.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, Any, dict[str, str]]


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """{field name: (file name or None, bytes)} of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return parts


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    route: str

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class FakeAPI:
    """The shared server: routing, recording, faults, jobs that advance when read."""

    requests: list[Request] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # provider file ref -> uploaded bytes
    jobs: dict[str, dict] = field(default_factory=dict)
    fail: dict[str, tuple[int, Any]] = field(default_factory=dict)
    fail_once: dict[str, tuple[int, Any]] = field(default_factory=dict)  # the next request only
    hang: set[str] = field(default_factory=set)
    create_then_hang: bool = False
    outcome: str = "success"  # or "failure": how jobs end
    steps: tuple[str, ...] = ()  # the provider's states, first to last
    routes: list[tuple[str, str, str]] = field(default_factory=list)  # method, regex, route name
    _released: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> FakeAPI:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def count(self, route: str) -> int:
        return sum(1 for r in self.requests if r.route == route)

    def calls(self, route: str) -> list[Request]:
        return [r for r in self.requests if r.route == route]

    def release(self) -> None:
        """Stop holding requests (held ones stay unanswered: their clients are gone)."""
        self.hang.clear()

    def dispatch(self, req: Request, match: re.Match) -> Reply:
        return getattr(self, f"do_{req.route}")(req, *match.groups())

    def advance(self, job_id: str) -> dict:
        """The job one state further along (the last state stays)."""
        job = self.jobs[job_id]
        if job["_step"] < len(self.steps) - 1 and not job.get("_stopped"):
            job["_step"] += 1
            self.on_state(job, self.steps[job["_step"]])
        return job

    def on_state(self, job: dict, state: str) -> None:
        """Fill in what the provider adds when a job reaches `state` (subclasses)."""

    def public(self, job: dict) -> dict:
        return {k: v for k, v in job.items() if not k.startswith("_")}


def _handler(api: FakeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            found = [(name, m) for method, pattern, name in api.routes
                     if method == self.command and (m := re.fullmatch(pattern, parts.path))]
            if not found:
                return self._send(404, {"error": {"message": f"no route {self.command} "
                                                             f"{parts.path}"}}, {})
            name, match = found[0]
            req = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers),
                          body, name)
            api.requests.append(req)
            if name in api.hang:
                api._released.wait()  # never answered; the server's shutdown lets it go
                return None
            if name in api.fail or name in api.fail_once:
                status, reply = api.fail_once.pop(name, None) or api.fail[name]
                return self._send(status, reply, {})
            status, reply, headers = api.dispatch(req, match)
            if api.create_then_hang and name == "create_job":
                api._released.wait()
                return None
            return self._send(status, reply, headers)

        def _send(self, status: int, reply: Any, headers: dict[str, str]) -> None:
            data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
            self.send_response(status)
            for key, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


# ---------------------------------------------------------------- OpenAI

OPENAI_MODELS = ("gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "gpt-4.1-2025-04-14",
                 "gpt-4.1-mini-2025-04-14")


class OpenAIFake(FakeAPI):
    def __init__(self) -> None:
        super().__init__(steps=("validating_files", "queued", "running", "succeeded"), routes=[
            ("POST", r"/v1/files", "upload"), ("POST", r"/v1/fine_tuning/jobs", "create_job"),
            ("GET", r"/v1/fine_tuning/jobs", "list_jobs"),
            ("GET", r"/v1/fine_tuning/jobs/([^/]+)", "get_job"),
            ("POST", r"/v1/fine_tuning/jobs/([^/]+)/cancel", "cancel_job")])

    def do_upload(self, req: Request) -> Reply:
        parts = parse_multipart(req.headers["Content-Type"], req.body)
        file_id = f"file-{len(self.files) + 1}"
        filename, data = parts["file"]
        self.files[file_id] = data
        return 200, {"id": file_id, "object": "file", "bytes": len(data), "created_at": 1,
                     "filename": filename, "purpose": parts["purpose"][1].decode(),
                     "status": "processed"}, {}

    def do_create_job(self, req: Request) -> Reply:
        body = req.json()
        if body["model"] not in OPENAI_MODELS:
            return 400, {"error": {"message": f"Model {body['model']} is not available for "
                                              "fine-tuning or does not exist.",
                                   "type": "invalid_request_error", "param": "model",
                                   "code": "model_not_available"}}, {}
        if body["training_file"] not in self.files:
            return 400, {"error": {"message": f"invalid training_file: {body['training_file']}",
                                   "type": "invalid_request_error", "param": "training_file",
                                   "code": None}}, {}
        job_id = f"ftjob-{len(self.jobs) + 1}"
        self.jobs[job_id] = {
            "id": job_id, "object": "fine_tuning.job", "created_at": 1, "model": body["model"],
            "organization_id": "org-x", "result_files": [], "seed": 1, "status": self.steps[0],
            "training_file": body["training_file"], "fine_tuned_model": None, "error": None,
            "validation_file": body.get("validation_file"), "metadata": body.get("metadata"),
            "method": body.get("method"), "suffix": body.get("suffix"), "_step": 0}
        return 200, self.public(self.jobs[job_id]), {}

    def do_list_jobs(self, req: Request) -> Reply:
        data = [self.public(j) for j in reversed(self.jobs.values())]
        return 200, {"object": "list", "data": data, "has_more": False}, {}

    def do_get_job(self, req: Request, job_id: str) -> Reply:
        if job_id not in self.jobs:
            return 404, {"error": {"message": f"Could not find fine-tune: {job_id}",
                                   "type": "invalid_request_error", "code": "fine_tune_not_found"}}, {}
        return 200, self.public(self.advance(job_id)), {}

    def on_state(self, job: dict, state: str) -> None:
        if state == "succeeded" and self.outcome == "failure":
            job.update(status="failed", error={"code": "invalid_training_file", "param":
                                               "training_file", "message": "line 3: bad"})
        elif state == "succeeded":
            job.update(status=state, fine_tuned_model=f"ft:{job['model']}:org-x:"
                       f"{job.get('suffix') or ''}:AbC123", finished_at=2, trained_tokens=1234)
        else:
            job["status"] = state

    def do_cancel_job(self, req: Request, job_id: str) -> Reply:
        self.jobs[job_id].update(status="cancelled", _stopped=True)
        return 200, self.public(self.jobs[job_id]), {}


# ---------------------------------------------------------------- Together AI

TOGETHER_MODELS = ("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "Qwen/Qwen3-8B")


class TogetherFake(FakeAPI):
    def __init__(self) -> None:
        super().__init__(steps=("pending", "queued", "running", "completed"), routes=[
            ("POST", r"/v1/files", "upload"), ("PUT", r"/upload/([^/]+)", "put_bytes"),
            ("POST", r"/v1/files/([^/]+)/preprocess", "preprocess"),
            ("GET", r"/v1/fine-tunes/models/limits", "limits"),
            ("POST", r"/v1/fine-tunes/estimate-price", "estimate"),
            ("POST", r"/v1/fine-tunes", "create_job"), ("GET", r"/v1/fine-tunes", "list_jobs"),
            ("GET", r"/v1/fine-tunes/([^/]+)", "get_job"),
            ("POST", r"/v1/fine-tunes/([^/]+)/cancel", "cancel_job")])
        self.names: dict[str, str] = {}

    def do_upload(self, req: Request) -> Reply:
        form = parse_multipart(req.headers["Content-Type"], req.body)
        file_id = f"file-{len(self.names) + 1}"
        self.names[file_id] = form["file_name"][1].decode()
        host = req.headers["Host"]
        return 302, b"", {"Location": f"http://{host}/upload/{file_id}",
                          "X-Together-File-Id": file_id}

    def do_put_bytes(self, req: Request, file_id: str) -> Reply:
        self.files[file_id] = req.body
        return 200, b"", {}

    def do_preprocess(self, req: Request, file_id: str) -> Reply:
        return 200, {"id": file_id, "object": "file", "bytes": len(self.files[file_id]),
                     "created_at": 1, "filename": self.names[file_id], "FileType": "jsonl",
                     "purpose": "fine-tune", "processing_status": "COMPLETED"}, {}

    def do_limits(self, req: Request) -> Reply:
        model = req.query["model_name"][0]
        if model not in TOGETHER_MODELS:
            return 404, {"error": {"message": f"model {model} not found", "type": "not_found"}}, {}
        return 200, {"model_name": model, "max_num_epochs": 20, "max_learning_rate": 1,
                     "min_learning_rate": 0, "max_num_evals": 100, "max_num_checkpoints": 10,
                     "max_seq_length_sft": 8192, "max_seq_length_dpo": 8192,
                     "min_max_seq_length": 512, "merge_output_lora": True,
                     "supports_full_training": False, "supports_vision": False,
                     "lora_training": {"default_rank": 16, "max_rank": 64, "min_batch_size": 8,
                                       "max_batch_size": 32, "max_batch_size_dpo": 16,
                                       "target_modules": ["q_proj"]},
                     "full_training": None}, {}

    def do_estimate(self, req: Request) -> Reply:
        return 200, {"estimation_available": True, "allowed_to_proceed": True,
                     "estimated_total_price": 1.25, "estimated_train_token_count": 1000}, {}

    def do_create_job(self, req: Request) -> Reply:
        body = req.json()
        job_id = f"ft-{len(self.jobs) + 1}"
        self.jobs[job_id] = {**body, "id": job_id, "status": "pending", "user_id": "u1",
                             "created_at": "2026-12-05T00:00:00Z", "_step": 0}
        return 200, self.public(self.jobs[job_id]), {}

    def do_list_jobs(self, req: Request) -> Reply:
        return 200, {"data": [self.public(j) for j in self.jobs.values()]}, {}

    def do_get_job(self, req: Request, job_id: str) -> Reply:
        job = self.jobs[job_id]
        if job["status"] == "cancel_requested":
            job["status"] = "cancelled"
            return 200, self.public(job), {}
        return 200, self.public(self.advance(job_id)), {}

    def on_state(self, job: dict, state: str) -> None:
        failed = state == "completed" and self.outcome == "failure"
        job["status"] = "error" if failed else state
        if failed:
            job["events"] = [{"object": "fine-tune-event", "message": "Invalid file format",
                              "type": "job_error", "created_at": "2026-12-05T00:01:00Z"}]
        elif state == "completed":
            job["model_output_name"] = f"user/{job['model'].split('/')[-1]}-" \
                                       f"{job.get('suffix') or 'ft'}-1a2b"

    def do_cancel_job(self, req: Request, job_id: str) -> Reply:
        self.jobs[job_id].update(status="cancel_requested", _stopped=True)
        return 200, self.public(self.jobs[job_id]), {}
