"""`train` resumes instead of repeating: a run killed between upload and job creation, or during the
create call, leaves exactly one upload and one job after the rerun (real SIGKILLed subprocesses,
and create calls that never get an answer)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from src.config import db_path
from src.main import main
from src.persistence.sqlite_client import Database
from tests.export_helpers import examples, store
from tests.train_helpers import Site, at_fixture, cfg_fixture, site  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parent.parent
STARTUP_S = 90.0  # a cold subprocess imports the SDKs: allow for a slow, shared machine


def rows(table: str) -> list[dict]:
    with Database(db_path()) as db:
        return db.conn.execute(f"SELECT * FROM {table}").fetchall()


def start_subprocess(cfg: Path, provider: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "src.main", "train", "handbook", "--provider",
                             provider, "--config", str(cfg)], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(check: Any, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_S
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {proc.stderr.read().decode()}")
        assert time.monotonic() < deadline, f"no {what} within {STARTUP_S:.0f} s"
        time.sleep(0.05)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr:
        proc.stderr.close()


@pytest.mark.slow
def test_killed_between_upload_and_job_creation_reruns_with_one_upload_and_one_job(
        cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s: Site = at(raw)
        assert s.fake is not None
        s.fake.hang.add("create_job")  # the create request arrives but is never answered
        proc = start_subprocess(cfg, "openai")
        wait_for(lambda: s.fake.count("create_job") == 1, "job-create request", proc)
        kill(proc)
        assert len(rows("train_uploads")) == 2  # recorded before the job was asked for
        assert [(r["job_id"], r["state"]) for r in rows("train_jobs")] == [("", "creating")]
        s.fake.release()
        assert main(["train", "handbook", "--provider", "openai", "--config", str(cfg)]) == 0
        assert s.fake.count("upload") == 2 and len(s.fake.jobs) == 1  # train + validation, 1 job
        assert s.fake.count("list_jobs") == 1  # it looked for a job before creating one
        (job,) = rows("train_jobs")
        assert job["job_id"] == "ftjob-1" and job["state"] in ("queued", "running")
    assert list(Path(db_path().parent / "train").glob("*.jsonl")) == []  # pins removed


@pytest.mark.slow
def test_killed_after_the_provider_created_the_job_finds_it_instead_of_creating_another(
        cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site("fireworks") as raw:
        s: Site = at(raw)
        assert s.fake is not None
        s.fake.create_then_hang = True  # the job exists on the provider; the answer never comes
        proc = start_subprocess(cfg, "fireworks")
        wait_for(lambda: len(s.fake.jobs) == 1, "job on the provider", proc)
        kill(proc)
        s.fake.create_then_hang = False
        assert main(["train", "handbook", "--provider", "fireworks", "--config", str(cfg),
                     "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["recovered"] and out["reused"] == ["train", "validation"]
        assert s.fake.count("create_job") == 1 and len(s.fake.jobs) == 1
        assert s.fake.count("upload") == 2
        assert out["job_id"] == next(iter(s.fake.jobs))


@pytest.mark.parametrize("provider", ["openai", "together", "google"])
def test_create_call_without_an_answer_is_found_on_the_next_run(provider, cfg, at,
                                                                 capsys) -> None:
    store("handbook", examples(24))
    cfg.write_text(cfg.read_text().replace("timeout: 5", "timeout: 1"))
    with site(provider) as raw:
        s: Site = at(raw)
        assert s.fake is not None
        s.fake.create_then_hang = True
        assert main(["train", "handbook", "--provider", provider, "--config", str(cfg)]) == 1
        err = capsys.readouterr().err
        assert "run train again" in err and len(s.fake.jobs) == 1
        s.fake.create_then_hang = False
        assert main(["train", "handbook", "--provider", provider, "--config", str(cfg),
                     "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["recovered"] and len(s.fake.jobs) == 1 and s.fake.count("create_job") == 1
        assert len(s.uploads()) == 2


class HangingProxy:
    """Forwards to `target`, but for requests whose path ends with `suffix` never answers (after
    the target has handled them): a provider that did the work and whose reply was lost."""

    def __init__(self, target: str, method: str, suffix: str) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                import urllib.error
                import urllib.request

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                req = urllib.request.Request(target + self.path, data=body or None,
                                             headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(req) as reply:
                        status, data, head = reply.status, reply.read(), reply.headers
                except urllib.error.HTTPError as exc:
                    status, data, head = exc.code, exc.read(), exc.headers
                if self.command == method and self.path.split("?")[0].endswith(suffix) \
                        and proxy.hanging:
                    proxy.released.wait()
                    return
                self.send_response(status)
                for key, value in head.items():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.hanging, self.released = True, threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy_for() -> Iterator[Any]:
    made: list[HangingProxy] = []

    def make(target: str, method: str, suffix: str) -> HangingProxy:
        made.append(HangingProxy(target, method, suffix))
        return made[-1]
    yield make
    for proxy in made:
        proxy.close()


def test_bedrock_job_created_without_an_answer_is_found_by_its_name(cfg, at, capsys, monkeypatch,
                                                                    proxy_for) -> None:
    store("handbook", examples(24))
    cfg.write_text(cfg.read_text().replace("timeout: 5", "timeout: 1"))
    with site("amazon") as raw:
        s: Site = at(raw)
        proxy = proxy_for(s.env["AWS_ENDPOINT_URL"], "POST", "/model-customization-jobs")
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", proxy.url)
        assert main(["train", "handbook", "--provider", "amazon", "--config", str(cfg)]) == 1
        assert "run train again" in capsys.readouterr().err and len(s.creates()) == 1
        proxy.hanging = False
        assert main(["train", "handbook", "--provider", "amazon", "--config", str(cfg),
                     "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["recovered"] and len(s.creates()) == 1 and len(s.uploads()) == 2
        assert out["job_id"] == s.creates()[0]["jobName"]


HOLD = """
import sys, time
from src.persistence.locks import train_lock
with train_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_second_train_of_the_same_dataset_at_once_is_refused_with_who_holds_it(cfg, at,
                                                                                 capsys) -> None:
    store("handbook", examples(24))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "handbook"], cwd=ROOT,
                              env=dict(os.environ), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with site("openai") as raw:
            s: Site = at(raw)
            assert main(["train", "handbook", "--config", str(cfg)]) == 2
            err = capsys.readouterr().err
            assert f"being sent for training by train (pid {holder.pid}" in err
            assert s.fake is not None and s.fake.requests == []
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()
