"""Recognisable fake API keys never reach the database, logs, exports, reports or the screen.

Runs `generate` as a subprocess (so logging, stdout and stderr are the real ones) with the key in
every provider's *_API_KEY: a good run, a run the provider refuses with 401, and runs against a
provider that echoes the key back in its error bodies (as some proxies do).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from src.config import PROJECT_ROOT
from tests.fake_llm_server import FakeLLMServer
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import (
    FAST_LIMITS,
    SAMPLES,
    cli_env,
    provider_env,
    run_cli,
    write_config,
)

SECRET = "sk-live-SECRETSECRET-1234567890"


class _EchoHandler(BaseHTTPRequestHandler):
    """A provider that quotes the caller's key in its error body."""

    protocol_version = "HTTP/1.1"
    status = 400

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Authorization", "") or self.headers.get("x-api-key", "")
        body = json.dumps({"error": {"message": f"Request with key {key} was refused",
                                     "type": "invalid_request_error"}}).encode()
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def echo_server(status: int) -> Iterator[str]:
    """An echoing provider answering every request with `status`; yields its OpenAI base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    httpd.status = status  # type: ignore[attr-defined]
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def leaks(folder: Path) -> list[str]:
    """Every file under `folder` (database, -wal, logs, backups, exports) holding the key."""
    needles = (SECRET.encode(), SECRET.encode("utf-16-le"))
    return [str(p) for p in folder.rglob("*") if p.is_file()
            and any(n in p.read_bytes() for n in needles)]


@pytest.mark.slow
def test_fake_keys_appear_nowhere_after_good_refused_and_echoing_runs(tmp_path: Path) -> None:
    work = tmp_path / "work"
    config = write_config(tmp_path, dataset_size=3, output_name="secret",
                          **{"input.directory": str(SAMPLES / "admissions_faq.md"),
                             "system.max_retries": 1, "system.timeout": 5,
                             "system.rate_limit": FAST_LIMITS})
    codes = {}  # each run has its own home: a shared cache would answer the later runs
    with FakeLLMServer(responder=grounded_responder) as good:
        env = cli_env(tmp_path / "good", provider_env(good, SECRET))
        codes["good"] = run_cli(config, work, env, tag="good")[0]
    with FakeLLMServer(valid_keys={"some-other-key"}) as refusing:
        env = cli_env(tmp_path / "refused", provider_env(refusing, SECRET))
        codes["401"] = run_cli(config, work, env, tag="refused")[0]
    for status in (400, 401, 500):
        with echo_server(status) as url:
            env = cli_env(tmp_path / f"echo{status}",
                          {**provider_env(good, SECRET), "OPENAI_BASE_URL": url})
            codes[f"echo {status}"] = run_cli(config, work, env, tag=f"echo{status}")[0]
    assert codes["good"] == 0 and all(code in (1, 2) for name, code in codes.items()
                                      if name != "good"), codes

    errors = "".join(p.read_text(errors="replace") for p in work.glob("*.err"))
    assert "refused the API key" in errors and "No samples were produced" in errors
    assert "Traceback" not in errors
    assert (tmp_path / "refused" / "memory" / "logs" / "builder.log").exists()
    assert (tmp_path / "good" / "output_datasets" / "secret" / "secret_train.jsonl").exists()
    assert leaks(tmp_path) == []


def test_dotenv_is_git_ignored() -> None:
    lines = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in [line.strip() for line in lines]
