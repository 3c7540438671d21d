"""The fake provider of tests/fake_llm_server.py, also speaking the four Batch API protocols.

Same server, same `responder` and token counter: a batch line gets the reply the live endpoint
would give to the same request, so a batch run and a live run can be compared sample for sample.
Live requests are counted in `stats` as before; batch protocol requests in `batch_log`.

Routes, as the pinned SDKs send them (facts in /work/notes/batch_apis.md, checked by running
openai 3.51.0, anthropic 2.10.0, google-genai 3.3.0 and mistralai 3.7.0 against this server):
- OpenAI (base .../v1): POST /v1/files (multipart), POST /v1/batches, GET /v1/batches[/{id}],
  POST /v1/batches/{id}/cancel, GET /v1/files/{id}/content.
- Mistral (root): POST /v1/files (the same handler, one object both SDKs accept),
  POST /v1/batch/jobs, GET /v1/batch/jobs[/{id}], POST /v1/batch/jobs/{id}/cancel,
  GET /v1/files/{id}/content (application/octet-stream, which the SDK requires).
- Anthropic (root): POST /v1/messages/batches, GET /v1/messages/batches[/{id}[/results]],
  POST /v1/messages/batches/{id}/cancel; results_url is this server's own absolute URL.
- Gemini (v1beta): POST /upload/v1beta/files (resumable start; the upload URL points back here),
  POST /resumable/{sid}, POST /v1beta/models/{m}:batchGenerateContent, GET /v1beta/batches[/{id}],
  POST /v1beta/batches/{id}:cancel, GET /v1beta/files/{id}:download; the output is in
  `metadata.output` (the only place the SDK reads it).

A batch ends after `polls_to_finish` retrieves. Per-line outcomes are scripted in order over every
line received (`script_lines("ok", "error", "expired", "malformed", "offschema")`), per-batch ones
with `script_batches("completed" | "expired" | "failed")` (expired: the first half of the lines
ran, failed: none did). `kill_on(step, pid)` SIGKILLs a client process at a step ("upload",
"create", "poll", "results"), before the reply when `before_reply` (so the provider has done the
step but the client never hears of it).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fake_llm_server import (
    FakeLLMServer,
    FakeRequest,
    _Handler,
    _parse_anthropic,
    _parse_gemini,
    _parse_openai,
    reply_body,
)

NOW = 1_764_900_000
RFC = "2026-12-05T10:00:00Z"
STEPS = ("upload", "create", "poll", "results")


@dataclass
class FakeBatch:
    id: str
    provider: str  # openai | mistral | anthropic | google
    model: str
    lines: list[tuple[str, FakeRequest]]  # (custom id, request)
    outcome: str = "completed"
    tag: str = ""  # metadata tag or display name
    created: float = field(default_factory=time.time)
    polls: int = 0
    status: str = "running"  # running | ended | cancelled
    results: list[tuple[str, str, Any]] = field(default_factory=list)  # (id, kind, data)


def _lower_types(schema: Any) -> Any:
    """Gemini's OpenAPI-subset schema with JSON-schema type names (what the responder reads)."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def parse_multipart(content_type: str, raw: bytes) -> dict[str, bytes]:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    parts = {}
    for part in raw.split(b"--" + boundary):
        head, _, data = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            parts[name.group(1).decode()] = data[:-2] if data.endswith(b"\r\n") else data
    return parts


class FakeBatchServer(FakeLLMServer):
    """FakeLLMServer plus the Batch APIs (see the module docstring)."""

    def __init__(self, *, polls_to_finish: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self._httpd.RequestHandlerClass = _BatchHandler
        self.polls_to_finish = polls_to_finish
        self.files: dict[str, bytes] = {}
        self.uploads: dict[str, bytearray] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.batch_log: list[tuple[str, str]] = []
        self.billed_batch_input = 0
        self.billed_batch_output = 0
        self._line_script: list[str] = []
        self._batch_script: list[str] = []
        self._kills: dict[str, tuple[int, bool, int]] = {}

    def script_lines(self, *kinds: str) -> None:
        with self.lock:
            self._line_script.extend(kinds)

    def script_batches(self, *outcomes: str) -> None:
        with self.lock:
            self._batch_script.extend(outcomes)

    def kill_on(self, step: str, pid: int, before_reply: bool = False, nth: int = 1) -> None:
        """SIGKILL process `pid` at the `nth` time `step` happens (before or after the reply)."""
        assert step in STEPS
        with self.lock:
            self._kills[step] = (pid, before_reply, nth)

    def kill_point(self, step: str, before: bool) -> None:
        with self.lock:
            pid, before_reply, nth = self._kills.get(step, (0, False, 0))
            if not pid or before_reply != before:
                return
            if nth > 1:
                self._kills[step] = (pid, before_reply, nth - 1)
                return
            del self._kills[step]
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.3)  # the client is gone before anything else happens

    @property
    def custom_ids(self) -> list[str]:
        """Every request id received in any batch (a duplicate here = something sent twice)."""
        with self.lock:
            return [cid for b in self.batches.values() for cid, _ in b.lines]

    def new_batch(self, provider: str, model: str, lines: list[tuple[str, FakeRequest]],
                  tag: str = "") -> FakeBatch:
        with self.lock:
            outcome = self._batch_script.pop(0) if self._batch_script else "completed"
            prefix = {"openai": "batch_", "mistral": "", "anthropic": "msgbatch_",
                      "google": "batches/"}[provider]
            batch = FakeBatch(prefix + uuid.uuid4().hex[:12], provider, model, lines, outcome, tag)
            self.batches[batch.id] = batch
        return batch

    def poll(self, batch: FakeBatch) -> None:
        """A retrieve: the batch ends at the `polls_to_finish`-th one."""
        with self.lock:
            batch.polls += 1
            ready = batch.status == "running" and batch.polls >= self.polls_to_finish
        if ready:
            self.finish(batch)

    def finish(self, batch: FakeBatch, cancelled: bool = False) -> None:
        ran = len(batch.lines) // 2 if batch.outcome == "expired" else \
            0 if batch.outcome == "failed" or cancelled else len(batch.lines)
        results = []
        for i, (cid, req) in enumerate(batch.lines):
            if i >= ran:
                results.append((cid, "cancelled" if cancelled else batch.outcome, None))
                continue
            with self.lock:
                kind = self._line_script.pop(0) if self._line_script else "ok"
            results.append((cid, kind, self.answer(req, kind) if kind in
                            ("ok", "malformed", "offschema") else None))
        with self.lock:
            batch.results = results
            batch.status = "cancelled" if cancelled else "ended"

    def answer(self, req: FakeRequest, kind: str) -> dict:
        """The body the live endpoint would send for this request, billed as batch work."""
        data: Any = ('{"answer": "cut off' if kind == "malformed" else {"unexpected": True}
                     if kind == "offschema" else self.responder(req))
        text = data if isinstance(data, str) else json.dumps(data)
        in_tok, out_tok = self.token_counter(req.system + req.user), self.token_counter(text)
        with self.lock:
            self.billed_batch_input += in_tok
            self.billed_batch_output += out_tok
        return reply_body(req, text, data, in_tok, out_tok)


class _BatchHandler(_Handler):
    """Batch routes first; anything else is the live endpoint of FakeLLMServer."""

    @property
    def fake(self) -> FakeBatchServer:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802
        self._route("GET", b"")

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if not _is_batch(path):
            super().do_POST()
            return
        length = int(self.headers.get("Content-Length") or 0)
        self._route("POST", self.rfile.read(length) if length else b"")

    def do_DELETE(self) -> None:  # noqa: N802
        self._json(404, {"error": {"message": "not supported"}})

    def _route(self, method: str, raw: bytes) -> None:
        path, _, query = self.path.partition("?")
        with self.fake.lock:
            self.fake.batch_log.append((method, path))
        for pattern, handler_name in ROUTES:
            match = re.fullmatch(pattern, f"{method} {path}")
            if match:
                getattr(self, handler_name)(raw, query, *match.groups())
                return
        self._json(404, {"error": {"message": f"no route {method} {path}"}})

    # ------------------------------------------------------------ replies

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send_payload(status, json.dumps(body).encode(),
                           {"Content-Type": "application/json", **(headers or {})})

    def _bytes(self, data: bytes) -> None:
        self._send_payload(200, data, {"Content-Type": "application/octet-stream"})

    def _step(self, step: str, send: Any) -> None:
        """Reply, with the scripted kill before or after it."""
        self.fake.kill_point(step, before=True)
        send()
        self.fake.kill_point(step, before=False)

    # ------------------------------------------------------------ files (OpenAI, Mistral)

    def files_create(self, raw: bytes, query: str) -> None:
        parts = parse_multipart(self.headers.get("Content-Type", ""), raw)
        file_id = "file-" + uuid.uuid4().hex[:10]
        self.fake.files[file_id] = parts.get("file", b"")
        body = {"id": file_id, "object": "file", "bytes": len(self.fake.files[file_id]),
                "created_at": NOW, "filename": "batch.jsonl", "purpose": "batch",
                "status": "processed", "sample_type": "batch_request", "source": "upload"}
        self._step("upload", lambda: self._json(200, body))

    def files_content(self, raw: bytes, query: str, file_id: str) -> None:
        self._step("results", lambda: self._bytes(self.fake.files.get(file_id, b"")))

    # ------------------------------------------------------------ OpenAI

    def openai_create(self, raw: bytes, query: str) -> None:
        body = json.loads(raw)
        lines = [json.loads(x) for x in self.fake.files[body["input_file_id"]].splitlines()]
        batch = self.fake.new_batch("openai", lines[0]["body"]["model"] if lines else "", [
            (x["custom_id"], _request("openai", x["body"], x["body"].get("model", "")))
            for x in lines], (body.get("metadata") or {}).get("tag", ""))
        self._step("create", lambda: self._json(200, self._openai(batch)))

    def openai_get(self, raw: bytes, query: str, batch_id: str) -> None:
        batch = self.fake.batches[batch_id]
        self.fake.poll(batch)
        self._step("poll", lambda: self._json(200, self._openai(batch)))

    def openai_list(self, raw: bytes, query: str) -> None:
        found = [self._openai(b) for b in reversed(self.fake.batches.values())
                 if b.provider == "openai"]
        self._json(200, {"object": "list", "data": found, "has_more": False})

    def openai_cancel(self, raw: bytes, query: str, batch_id: str) -> None:
        batch = self.fake.batches[batch_id]
        self.fake.finish(batch, cancelled=True)
        self._json(200, {**self._openai(batch), "status": "cancelling"})

    def _openai(self, batch: FakeBatch) -> dict:
        status = {"running": "in_progress", "cancelled": "cancelled"}.get(batch.status) or \
            {"completed": "completed", "expired": "expired", "failed": "failed"}[batch.outcome]
        body = {"id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": "file-in", "completion_window": "24h", "status": status,
                "created_at": int(batch.created), "metadata": {"tag": batch.tag},
                "request_counts": {"total": len(batch.lines), "completed": 0, "failed": 0}}
        if batch.status != "running":
            ok, bad = self._chat_files(batch, "openai")
            done = sum(1 for _, kind, _ in batch.results if kind in ("ok", "malformed",
                                                                      "offschema"))
            body.update(output_file_id=ok, error_file_id=bad, request_counts={
                "total": len(batch.lines), "completed": done, "failed": len(batch.lines) - done})
        return body

    def _chat_files(self, batch: FakeBatch, provider: str) -> tuple[str | None, str | None]:
        """Output and error files (OpenAI/Mistral line format); None for an empty one."""
        good, bad = [], []
        for cid, kind, data in batch.results:
            if data is not None:
                good.append({"id": "r-" + cid, "custom_id": cid, "error": None,
                             "response": {"status_code": 200, "body": data}})
            elif kind == "error":
                bad.append({"id": "r-" + cid, "custom_id": cid, "error": None, "response": {
                    "status_code": 400, "body": {"error": {"message": "fake line error",
                                                           "type": "invalid_request_error"}}}})
            elif provider == "openai" or kind == "expired":
                bad.append({"id": "r-" + cid, "custom_id": cid, "response": None, "error": {
                    "code": f"batch_{kind}", "message": f"This request was {kind}."}})
        return self._store_file(good), self._store_file(bad)

    def _store_file(self, lines: list[dict]) -> str | None:
        if not lines:
            return None
        file_id = "file-" + uuid.uuid4().hex[:10]
        self.fake.files[file_id] = "".join(json.dumps(x) + "\n" for x in lines).encode()
        return file_id

    # ------------------------------------------------------------ Mistral

    def mistral_create(self, raw: bytes, query: str) -> None:
        body = json.loads(raw)
        data = self.fake.files[body["input_files"][0]]
        lines = [json.loads(x) for x in data.splitlines()]
        batch = self.fake.new_batch("mistral", body["model"], [
            (x["custom_id"], _request("mistral", x["body"], body["model"])) for x in lines],
            (body.get("metadata") or {}).get("tag", ""))
        self._step("create", lambda: self._json(200, self._mistral(batch)))

    def mistral_get(self, raw: bytes, query: str, batch_id: str) -> None:
        batch = self.fake.batches[batch_id]
        self.fake.poll(batch)
        self._step("poll", lambda: self._json(200, self._mistral(batch)))

    def mistral_list(self, raw: bytes, query: str) -> None:
        found = [self._mistral(b) for b in reversed(self.fake.batches.values())
                 if b.provider == "mistral"]
        self._json(200, {"object": "list", "data": found, "total": len(found)})

    def mistral_cancel(self, raw: bytes, query: str, batch_id: str) -> None:
        batch = self.fake.batches[batch_id]
        self.fake.finish(batch, cancelled=True)
        self._json(200, {**self._mistral(batch), "status": "CANCELLATION_REQUESTED"})

    def _mistral(self, batch: FakeBatch) -> dict:
        status = {"running": "RUNNING", "cancelled": "CANCELLED"}.get(batch.status) or \
            {"completed": "SUCCESS", "expired": "TIMEOUT_EXCEEDED", "failed": "FAILED"}[
                batch.outcome]
        body = {"id": batch.id, "object": "batch", "input_files": ["file-in"],
                "endpoint": "/v1/chat/completions", "model": batch.model, "errors": [],
                "status": status, "created_at": int(batch.created), "metadata": {"tag": batch.tag},
                "total_requests": len(batch.lines), "completed_requests": 0,
                "succeeded_requests": 0, "failed_requests": 0}
        if batch.status != "running":
            ok, bad = self._chat_files(batch, "mistral")
            body.update(output_file=ok, error_file=bad, completed_requests=len(batch.lines))
        return body

    # ------------------------------------------------------------ Anthropic

    def anthropic_create(self, raw: bytes, query: str) -> None:
        requests = json.loads(raw)["requests"]
        batch = self.fake.new_batch("anthropic", requests[0]["params"]["model"], [
            (r["custom_id"], _request("anthropic", r["params"], r["params"]["model"]))
            for r in requests])
        self._step("create", lambda: self._json(200, self._anthropic(batch)))

    def anthropic_get(self, raw: bytes, query: str, batch_id: str) -> None:
        batch = self.fake.batches[batch_id]
        self.fake.poll(batch)
        self._step("poll", lambda: self._json(200, self._anthropic(batch)))

    def anthropic_list(self, raw: bytes, query: str) -> None:
        found = [self._anthropic(b) for b in reversed(self.fake.batches.values())
                 if b.provider == "anthropic"]
        self._json(200, {"data": found, "has_more": False,
                         "first_id": found[0]["id"] if found else None,
                         "last_id": found[-1]["id"] if found else None})

    def anthropic_cancel(self, raw: bytes, query: str, batch_id: str) -> None:
        batch = self.fake.batches[batch_id]
        self.fake.finish(batch, cancelled=True)
        self._json(200, {**self._anthropic(batch), "processing_status": "canceling"})

    def anthropic_results(self, raw: bytes, query: str, batch_id: str) -> None:
        lines = []
        for cid, kind, data in self.fake.batches[batch_id].results:
            result: dict = {"type": "succeeded", "message": data} if data is not None else \
                {"type": "errored", "error": {"type": "error", "error": {
                    "type": "invalid_request_error", "message": "fake line error"}}} \
                if kind == "error" else {"type": "canceled" if kind == "cancelled" else "expired"}
            lines.append({"custom_id": cid, "result": result})
        data_bytes = "".join(json.dumps(x) + "\n" for x in lines).encode()
        self._step("results", lambda: self._bytes(data_bytes))

    def _anthropic(self, batch: FakeBatch) -> dict:
        n = len(batch.lines)
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(batch.created))
        body = {"id": batch.id, "type": "message_batch", "processing_status": "in_progress",
                "created_at": created, "expires_at": created, "results_url": None,
                "request_counts": {"processing": n, "succeeded": 0, "errored": 0,
                                   "canceled": 0, "expired": 0}}
        if batch.status != "running":
            kinds = [kind for _, kind, _ in batch.results]
            ok = sum(k in ("ok", "malformed", "offschema") for k in kinds)
            body.update(processing_status="ended", ended_at=created,
                        results_url=f"{self.fake.url}/v1/messages/batches/{batch.id}/results",
                        request_counts={"processing": 0, "succeeded": ok,
                                        "errored": kinds.count("error"),
                                        "canceled": kinds.count("cancelled"),
                                        "expired": n - ok - kinds.count("error")
                                        - kinds.count("cancelled")})
        return body

    # ------------------------------------------------------------ Gemini

    def gemini_upload_start(self, raw: bytes, query: str) -> None:
        sid = uuid.uuid4().hex[:10]
        self.fake.uploads[sid] = bytearray()
        self._json(200, {}, {"X-Goog-Upload-URL": f"{self.fake.url}/resumable/{sid}",
                             "X-Goog-Upload-Status": "active"})

    def gemini_upload_chunk(self, raw: bytes, query: str, sid: str) -> None:
        self.fake.uploads[sid] += raw
        if "finalize" not in self.headers.get("X-Goog-Upload-Command", ""):
            self._json(200, {}, {"X-Goog-Upload-Status": "active"})
            return
        name = "files/" + uuid.uuid4().hex[:10]
        self.fake.files[name] = bytes(self.fake.uploads.pop(sid))
        body = {"file": {"name": name, "mimeType": "application/jsonl", "state": "ACTIVE",
                         "sizeBytes": str(len(self.fake.files[name])), "createTime": RFC}}
        self._step("upload", lambda: self._json(200, body, {"X-Goog-Upload-Status": "final"}))

    def gemini_create(self, raw: bytes, query: str, model: str) -> None:
        spec = json.loads(raw)["batch"]
        lines = [json.loads(x) for x in self.fake.files[spec["inputConfig"]["fileName"]]
                 .splitlines()]
        batch = self.fake.new_batch("google", model, [
            (x["key"], _request("google", x["request"], model)) for x in lines],
            spec.get("displayName", ""))
        self._step("create", lambda: self._json(200, self._gemini(batch)))

    def gemini_get(self, raw: bytes, query: str, batch_id: str) -> None:
        batch = self.fake.batches["batches/" + batch_id]
        self.fake.poll(batch)
        self._step("poll", lambda: self._json(200, self._gemini(batch)))

    def gemini_list(self, raw: bytes, query: str) -> None:
        self._json(200, {"operations": [self._gemini(b) for b in reversed(
            self.fake.batches.values()) if b.provider == "google"]})

    def gemini_cancel(self, raw: bytes, query: str, batch_id: str) -> None:
        self.fake.finish(self.fake.batches["batches/" + batch_id], cancelled=True)
        self._json(200, {})

    def gemini_download(self, raw: bytes, query: str, file_id: str) -> None:
        self._step("results", lambda: self._bytes(self.fake.files.get("files/" + file_id, b"")))

    def _gemini(self, batch: FakeBatch) -> dict:
        state = {"running": "BATCH_STATE_RUNNING", "cancelled": "BATCH_STATE_CANCELLED"}.get(
            batch.status) or {"completed": "BATCH_STATE_SUCCEEDED", "expired":
                              "BATCH_STATE_EXPIRED", "failed": "BATCH_STATE_FAILED"}[batch.outcome]
        meta: dict = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta."
                      "GenerateContentBatch", "name": batch.id, "model": f"models/{batch.model}",
                      "displayName": batch.tag, "state": state, "createTime": RFC,
                      "updateTime": RFC}
        body: dict = {"name": batch.id, "metadata": meta}
        if batch.status != "running":
            lines = [{"key": cid, "response": data} if data is not None else
                     {"key": cid, "error": {"code": 400, "message": f"fake line {kind}",
                                            "status": "INVALID_ARGUMENT"}}
                     for cid, kind, data in batch.results if data is not None or kind == "error"]
            output = {"responsesFile": self._store_gemini(batch, lines)}
            meta.update(endTime=RFC, output=output)
            body.update(done=True, response=output)
        return body

    def _store_gemini(self, batch: FakeBatch, lines: list[dict]) -> str:
        name = "files/batch-" + batch.id.split("/")[-1]
        self.fake.files[name] = "".join(json.dumps(x) + "\n" for x in lines).encode()
        return name


def _request(provider: str, body: dict, model: str) -> FakeRequest:
    """A batch line read as the live endpoint reads a request (same responder input)."""
    if provider == "anthropic":
        wire, parsed = "anthropic", _parse_anthropic(body)
    elif provider == "google":
        wire, parsed = "gemini", _parse_gemini(body)
        parsed = (parsed[0], parsed[1], _lower_types(parsed[2]), parsed[3])
    else:
        wire, parsed = "openai", _parse_openai(body)
    system, user, schema, name = parsed
    return FakeRequest(wire, "batch", model, system, user, schema, name, body, {})


def _is_batch(path: str) -> bool:
    return any(re.fullmatch(pattern.split(" ", 1)[1], path) for pattern, _ in ROUTES
               if pattern.startswith("POST "))


ROUTES = [
    (r"POST /v1/files", "files_create"),
    (r"GET /v1/files/([^/]+)/content", "files_content"),
    (r"POST /v1/batches", "openai_create"),
    (r"GET /v1/batches", "openai_list"),
    (r"GET /v1/batches/([^/]+)", "openai_get"),
    (r"POST /v1/batches/([^/]+)/cancel", "openai_cancel"),
    (r"POST /v1/batch/jobs", "mistral_create"),
    (r"GET /v1/batch/jobs", "mistral_list"),
    (r"GET /v1/batch/jobs/([^/]+)", "mistral_get"),
    (r"POST /v1/batch/jobs/([^/]+)/cancel", "mistral_cancel"),
    (r"POST /v1/messages/batches", "anthropic_create"),
    (r"GET /v1/messages/batches", "anthropic_list"),
    (r"GET /v1/messages/batches/([^/]+)", "anthropic_get"),
    (r"GET /v1/messages/batches/([^/]+)/results", "anthropic_results"),
    (r"POST /v1/messages/batches/([^/]+)/cancel", "anthropic_cancel"),
    (r"POST /upload/v1beta/files", "gemini_upload_start"),
    (r"POST /resumable/([^/]+)", "gemini_upload_chunk"),
    (r"POST /v1beta/models/([^/:]+):batchGenerateContent", "gemini_create"),
    (r"GET /v1beta/batches", "gemini_list"),
    (r"GET /v1beta/batches/([^/:]+)", "gemini_get"),
    (r"POST /v1beta/batches/([^/:]+):cancel", "gemini_cancel"),
    (r"GET /v1beta/files/([^/:]+):download", "gemini_download"),
]
