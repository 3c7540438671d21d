"""A fake LLM provider on 127.0.0.1 for tests and benchmarks: a real HTTP server in a thread.

It speaks the four wire formats the official SDKs use: OpenAI/Mistral/Llama chat completions
(`POST /v1/chat/completions`), Anthropic messages (`POST /v1/messages`) and Gemini
(`POST /v1beta/models/{model}:generateContent`). Point an SDK at `server.base_url(provider)`.

Faults are scripted (`server.script("429", "ok", "hang")` applies to the next requests in order)
or random (`fault_rates={"hang": 0.02}`, seeded). Kinds: ok, 429, 401, 404, 500, 503, 529, hang,
malformed (not JSON), offschema (JSON missing the required keys). With `requests_per_minute` the
server enforces a rate limit like a real provider: 429 with Retry-After beyond it.

Any other reply is scripted with `Canned` (mixed freely with fault names in `script`): any status,
raw body, headers, content text or usage object, per request, e.g.
`server.script(Canned(body={"choices": []}), Canned(usage=None), Canned(status=402, body=...))`.
`token_counter` sets how the server counts (and bills) tokens, e.g. with a real tokenizer.

A `responder(FakeRequest) -> dict | str` decides the content (a dict is sent as JSON, a str as
is); the default builds a minimal instance of the requested schema. Tests use the fixture:

    from tests.fake_llm_server import fake_llm_fixture  # noqa: F401 (provides `fake_llm`)

    def test_x(fake_llm): fake_llm.script("429"); ... fake_llm.base_url("openai") ...
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

OPENAI_COMPATIBLE = ("openai", "llama")
FAULTS = ("ok", "429", "401", "404", "500", "503", "529", "hang", "malformed", "offschema")
SCHEMA_BLOCK = re.compile(r"```json\s*(\{.*\})\s*```", re.S)


@dataclass
class FakeRequest:
    """What the server understood of one request."""

    wire: str  # openai | anthropic | gemini
    path: str
    model: str
    system: str
    user: str
    schema: dict | None
    schema_name: str
    body: dict
    headers: dict[str, str]


Responder = Callable[[FakeRequest], "dict | str"]
KEEP: Any = object()  # a Canned part left as the server would send it anyway


@dataclass
class Canned:
    """One reply exactly as a test wants it; parts left at KEEP are what the server sends anyway.

    body: the whole body (a dict or list is sent as JSON, str or bytes as they are) instead of a
    wire-format reply; text: the content of an otherwise normal reply (instead of the responder's);
    usage: the usage object of that reply in the wire's own keys (`usage`, `usageMetadata`), None
    for null; headers and content_type are sent as given.
    """

    status: int = 200
    body: Any = KEEP
    text: str | None = None
    usage: Any = KEEP
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def approx_tokens(text: str) -> int:
    """The server's token count: one per 4 characters, at least one."""
    return max(1, math.ceil(len(text) / 4))


def example_for(schema: dict | None, n: int = 0) -> Any:
    """A minimal value that satisfies `schema` (required keys, types, enums, minItems)."""
    schema = schema or {"type": "object", "properties": {"answer": {"type": "string"}}}
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: example_for(sub, n) for key, sub in props.items()}
    if kind == "array":
        return [example_for(schema.get("items", {"type": "string"}), i)
                for i in range(max(1, schema.get("minItems", 1)))]
    return {"string": f"text {n}", "integer": 1, "number": 1.5, "boolean": True}.get(kind)


def default_responder(request: FakeRequest) -> dict | str:
    """Answer with a minimal instance of the requested schema."""
    return example_for(request.schema)


# ------------------------------------------------------------------ reading requests

def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    if isinstance(content, dict):
        return _text_of(content.get("parts", []))
    return ""


def _schema_in_prompt(text: str) -> dict | None:
    found = SCHEMA_BLOCK.findall(text)
    return json.loads(found[-1]) if found else None


def _parse_openai(body: dict) -> tuple[str, str, dict | None, str]:
    messages = body.get("messages", [])
    system = "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") == "system")
    user = "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") != "system")
    fmt = body.get("response_format") or {}
    spec = fmt.get("json_schema") or {}
    schema = spec.get("schema") or _schema_in_prompt(system + "\n" + user)
    return system, user, schema, spec.get("name", "reply")


def _parse_anthropic(body: dict) -> tuple[str, str, dict | None, str]:
    user = "\n".join(_text_of(m.get("content")) for m in body.get("messages", []))
    tools = body.get("tools") or [{}]
    return (_text_of(body.get("system", "")), user, tools[0].get("input_schema"),
            tools[0].get("name", "reply"))


def _parse_gemini(body: dict) -> tuple[str, str, dict | None, str]:
    user = "\n".join(_text_of(c) for c in body.get("contents", []))
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    return _text_of(body.get("systemInstruction") or ""), user, schema, "reply"


def parse_request(path: str, body: dict, headers: dict[str, str]) -> FakeRequest | None:
    """Recognise the wire format by path; None for an unknown path."""
    if path.endswith("/chat/completions"):
        wire, parsed, model = "openai", _parse_openai(body), body.get("model", "")
    elif path.endswith("/messages"):
        wire, parsed, model = "anthropic", _parse_anthropic(body), body.get("model", "")
    elif path.endswith(":generateContent"):
        model = path.rsplit("/", 1)[-1].split(":")[0]
        wire, parsed = "gemini", _parse_gemini(body)
    else:
        return None
    system, user, schema, name = parsed
    return FakeRequest(wire, path, model, system, user, schema, name, body, headers)


# ------------------------------------------------------------------ writing replies

def reply_body(req: FakeRequest, text: str, data: Any, in_tok: int, out_tok: int) -> dict:
    """A success body in the request's wire format carrying `text` (or `data` as a tool call)."""
    if req.wire == "anthropic":
        block = ({"type": "tool_use", "id": "toolu_fake", "name": req.schema_name, "input": data}
                 if isinstance(data, dict) else {"type": "text", "text": text})
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": req.model,
                "content": [block], "stop_reason": "tool_use", "stop_sequence": None,
                "usage": {"input_tokens": in_tok, "output_tokens": out_tok}}
    if req.wire == "gemini":
        return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": in_tok, "candidatesTokenCount": out_tok,
                                  "totalTokenCount": in_tok + out_tok},
                "modelVersion": req.model}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": req.model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": in_tok, "completion_tokens": out_tok,
                      "total_tokens": in_tok + out_tok}}


def cached_usage(body: dict, wire: str, cached: int) -> dict:
    """A success body with `cached` prompt tokens reported the way the wire reports them."""
    if not cached:
        return body
    if wire == "anthropic":  # its input_tokens leave the cache reads out
        body["usage"].update(input_tokens=body["usage"]["input_tokens"] - cached,
                             cache_read_input_tokens=cached, cache_creation_input_tokens=0)
    elif wire == "gemini":
        body["usageMetadata"]["cachedContentTokenCount"] = cached
    else:
        body["usage"]["prompt_tokens_details"] = {"cached_tokens": cached}
    return body


ERROR_NAMES = {401: ("authentication_error", "UNAUTHENTICATED"),
               404: ("not_found_error", "NOT_FOUND"),
               429: ("rate_limit_error", "RESOURCE_EXHAUSTED"),
               500: ("api_error", "INTERNAL"), 503: ("api_error", "UNAVAILABLE"),
               529: ("overloaded_error", "UNAVAILABLE")}


USAGE_KEYS = {"openai": ("usage", "prompt_tokens", "completion_tokens"),
              "anthropic": ("usage", "input_tokens", "output_tokens"),
              "gemini": ("usageMetadata", "promptTokenCount", "candidatesTokenCount")}


def error_body(wire: str, status: int) -> dict:
    """An error body shaped like the provider's."""
    kind, grpc = ERROR_NAMES.get(status, ("api_error", "UNKNOWN"))
    message = f"fake {status}"
    if wire == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    if wire == "gemini":
        return {"error": {"code": status, "message": message, "status": grpc}}
    return {"error": {"message": message, "type": kind, "code": str(status)}}


def _retry_headers(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds))),
            "retry-after-ms": str(max(1, math.ceil(seconds * 1000)))}


# ------------------------------------------------------------------ the server

class _Bucket:
    """The server's rate limit: a token bucket holding one second of requests."""

    def __init__(self, per_minute: float):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when the request may pass, else the seconds until it could."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level >= 1:
            self.level -= 1
            return 0.0
        return (1 - self.level) / self.rate


@dataclass
class Stats:
    """What the server saw and billed (read it under `server.lock` or after the run)."""

    requests: int = 0
    by_wire: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    billed_input_tokens: int = 0
    billed_output_tokens: int = 0
    cached_input_tokens: int = 0  # of billed_input_tokens, read from the prompt cache
    faults: Counter = field(default_factory=Counter)  # faults sent, by kind (random or scripted)
    in_flight: int = 0
    max_in_flight: int = 0
    received: list[FakeRequest] = field(default_factory=list)


class FakeLLMServer:
    """The fake provider; use as a context manager or call start()/stop()."""

    def __init__(self, *, latency: float = 0.0, requests_per_minute: float | None = None,
                 responder: Responder | None = None, fault_rates: dict[str, float] | None = None,
                 hang_seconds: float = 30.0, seed: int = 0, valid_keys: set[str] | None = None,
                 retry_after: float = 1.0, error_retry_after: float | None = None,
                 token_counter: Callable[[str], int] = approx_tokens,
                 prompt_cache_min_tokens: int | None = None, port: int = 0):
        self.latency = latency
        self.token_counter = token_counter
        self.responder = responder or default_responder
        self.fault_rates = fault_rates or {}
        self.hang_seconds = hang_seconds
        self.valid_keys = valid_keys
        self.retry_after = retry_after  # sent with a scripted 429
        self.error_retry_after = error_retry_after  # if set, 5xx answers carry Retry-After too
        self.bucket = _Bucket(requests_per_minute) if requests_per_minute else None
        # like OpenAI's automatic prompt caching: the longest prompt prefix (system + user text)
        # already sent is read from the cache, when it is at least this many tokens (None: off)
        self.prompt_cache_min_tokens = prompt_cache_min_tokens
        self._prompts: list[str] = []
        self.stats = Stats()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._script: list[str | Canned] = []
        self._random = random.Random(seed)
        self._httpd = _QuietServer(("127.0.0.1", port), _Handler)  # port 0: any free one
        self._httpd.request_queue_size = 256
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, provider: str) -> str:
        """The base URL an SDK takes: with /v1 for OpenAI-compatible, the root for the rest."""
        return self.url + "/v1" if provider in OPENAI_COMPATIBLE else self.url

    def script(self, *faults: str | Canned) -> None:
        """Apply these faults or canned replies to the next requests, in order (then normal)."""
        unknown = [f for f in faults if not isinstance(f, Canned) and f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; use {FAULTS}")
        with self.lock:
            self._script.extend(faults)

    def next_fault(self) -> str | Canned:
        """The fault for the request being handled (call under the lock)."""
        if self._script:
            return self._script.pop(0)
        for fault, rate in self.fault_rates.items():
            if self._random.random() < rate:
                return fault
        return "ok"

    def cached_tokens(self, prompt: str) -> int:
        """Tokens of the longest prefix of `prompt` sent before (prompt caching), 0 below the
        minimum or with the cache off; the prompt is remembered."""
        if self.prompt_cache_min_tokens is None:
            return 0
        with self.lock:
            shared = max((len(os.path.commonprefix([prompt, seen])) for seen in self._prompts),
                         default=0)
            self._prompts.append(prompt)
        tokens = self.token_counter(prompt[:shared]) if shared else 0
        return tokens if tokens >= self.prompt_cache_min_tokens else 0

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (timeout, killed process) is expected here: no traceback for it."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body leave in one write (no Nagle/delayed-ACK stall)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    @property
    def fake(self) -> FakeLLMServer:
        return self.server.fake  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not length or len(raw) < length:  # the client died while sending: nothing to answer
            self.close_connection = True
            return
        path = self.path.split("?", 1)[0]
        req = parse_request(path, json.loads(raw), {k.lower(): v for k, v in
                                                             self.headers.items()})
        if req is None:
            self._send(404, {"error": {"message": f"no route {path}"}})
            return
        fake = self.fake
        with fake.lock:
            fake.stats.requests += 1
            fake.stats.by_wire[req.wire] += 1
            fake.stats.received.append(req)
            fault, wait = self._decide(req)
            fake.stats.in_flight += 1
            fake.stats.max_in_flight = max(fake.stats.max_in_flight, fake.stats.in_flight)
        try:
            self._answer(req, fault, wait)
        finally:
            with fake.lock:
                fake.stats.in_flight -= 1

    def _decide(self, req: FakeRequest) -> tuple[str | Canned, float]:
        fake = self.fake
        key = (req.headers.get("authorization", "").removeprefix("Bearer ")
               or req.headers.get("x-api-key") or req.headers.get("x-goog-api-key") or "")
        if fake.valid_keys is not None and key not in fake.valid_keys:
            return "401", 0.0
        wait = fake.bucket.take() if fake.bucket else 0.0
        fault = "429" if wait else fake.next_fault()
        fake.stats.faults[fault if isinstance(fault, str) else "canned"] += 1  # under fake.lock
        return fault, wait

    def _answer(self, req: FakeRequest, fault: str | Canned, wait: float) -> None:
        fake = self.fake
        if isinstance(fault, Canned):
            self._send_canned(req, fault)
            return
        if fault == "hang":
            fake.stopping.wait(fake.hang_seconds)
            self.close_connection = True
            return
        if fault == "429":
            self._send(429, error_body(req.wire, 429), _retry_headers(wait or fake.retry_after))
            return
        if fault in ("401", "404", "500", "503", "529"):
            after = fake.error_retry_after
            headers = _retry_headers(after) if after is not None and fault >= "5" else None
            self._send(int(fault), error_body(req.wire, int(fault)), headers)
            return
        if fake.latency:
            fake.stopping.wait(fake.latency)
        self._send_content(req, fault)

    def _send_content(self, req: FakeRequest, fault: str) -> None:
        fake = self.fake
        if fault == "malformed":
            data: Any = '{"answer": "cut off'
        elif fault == "offschema":
            data = {"unexpected": True}
        else:
            data = fake.responder(req)
        text = data if isinstance(data, str) else json.dumps(data)
        count = fake.token_counter
        in_tok, out_tok = count(req.system + req.user), count(text)
        cached = fake.cached_tokens(req.system + req.user)
        self._bill(in_tok, out_tok, cached)  # before sending: the client may read the stats at once
        if not self._send(200, cached_usage(reply_body(req, text, data, in_tok, out_tok), req.wire,
                                            cached)):
            self._bill(-in_tok, -out_tok, -cached)

    def _send_canned(self, req: FakeRequest, canned: Canned) -> None:
        """A scripted reply: a raw body as given, or a normal one with its text or usage replaced."""
        headers = {**canned.headers, "Content-Type": canned.content_type}
        if canned.body is not KEEP:
            body = canned.body
            payload = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass") \
                if isinstance(body, str) else json.dumps(body).encode()
            self._send_payload(canned.status, payload, headers)
            return
        data: Any = canned.text if canned.text is not None else self.fake.responder(req)
        text = data if isinstance(data, str) else json.dumps(data)
        in_tok, out_tok = self.fake.token_counter(req.system + req.user), self.fake.token_counter(text)
        body = reply_body(req, text, data, in_tok, out_tok)
        if canned.usage is not KEEP:
            key, in_key, out_key = USAGE_KEYS[req.wire]
            body[key] = canned.usage
            in_tok, out_tok = (_count(canned.usage, in_key), _count(canned.usage, out_key))
        self._bill(in_tok, out_tok)
        self._send_payload(canned.status, json.dumps(body).encode(), headers)

    def _bill(self, in_tok: int, out_tok: int, cached: int = 0) -> None:
        with self.fake.lock:
            self.fake.stats.billed_input_tokens += in_tok
            self.fake.stats.billed_output_tokens += out_tok
            self.fake.stats.cached_input_tokens += cached

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> bool:
        return self._send_payload(status, json.dumps(body).encode(),
                                  {"Content-Type": "application/json", **(headers or {})})

    def _send_payload(self, status: int, payload: bytes, headers: dict[str, str]) -> bool:
        with self.fake.lock:
            self.fake.stats.statuses[status] += 1
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            return True
        except OSError:  # the client gave up (timeout) before the answer: nothing billed
            self.close_connection = True
            return False


def _count(usage: Any, key: str) -> int:
    """What a scripted usage object bills: its count when it is a whole number >= 0, else 0."""
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@pytest.fixture(name="fake_llm")
def fake_llm_fixture() -> Iterator[FakeLLMServer]:
    """A running fake provider (no latency, no rate limit); stopped after the test."""
    with FakeLLMServer() as server:
        yield server
