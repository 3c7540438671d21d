"""The Ray engine on a local 2-CPU Ray (loopback only) against the fake LLM server.

The same create job runs on the local engine and on Ray; the server answers after 300 ms and
allows RAY_SERVER_RATE requests/min, the config asks for RAY_RATE. Reported: whether both engines
accepted the same samples (ids and text), the rate the shared limiter held across the Ray workers
as a share of the configured rate, and the 429s of each engine.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time
from pathlib import Path

import yaml

from src.config import db_path
from src.engine.ray_engine import import_ray, runtime_env
from src.main import main
from src.persistence.sqlite_client import Database
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import provider_env, write_documents

RAY_RATE = 200  # requests/min configured
RAY_SERVER_RATE = 240  # what the server allows
LATENCY_S = 0.3
SIZE = 120  # samples wanted: about 90 requests


class _Timed:
    """The grounded responder, noting when each request arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, request: FakeRequest) -> dict:
        with self.lock:
            self.times.append(time.monotonic())
        return grounded_responder(request)


def _run(workdir: Path, engine: str, folder: Path) -> dict:
    home = workdir / engine
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DATASET_BUILDER_HOME"] = str(home)
    timed = _Timed()
    with FakeLLMServer(latency=LATENCY_S, requests_per_minute=RAY_SERVER_RATE,
                       responder=timed) as server:
        os.environ.update(provider_env(server))
        config = home / "config.yaml"
        config.write_text(yaml.safe_dump({
            "provider": "openai", "model": "gpt-4o-mini", "mode": "create", "dataset_size": SIZE,
            "output_name": "bench_ray", "budget_usd": 5.0, "input": {"directory": str(folder)},
            "system": {"agentic_llm": "openai", "agentic_model": "gpt-4o-mini", "engine": engine,
                       "concurrency": 16, "rate_limit": {"requests_per_minute": RAY_RATE,
                                                         "tokens_per_minute": 10_000_000}}}))
        out = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["generate", "--config", str(config), "--yes", "--json"])
        seconds = time.perf_counter() - started
        statuses = dict(server.stats.statuses)
    result = json.loads(out.getvalue())
    with Database(db_path()) as db:
        samples = db.load_examples(db.get_dataset("bench_ray")["id"])
    times = sorted(timed.times)
    rate = (len(times) - 1) / (times[-1] - times[0]) * 60 if len(times) > 1 else 0.0
    return {"code": code, "accepted": sorted((ex.id, ex.text) for ex in samples),
            "requests": result["requests"], "rate": rate, "429s": statuses.get(429, 0),
            "seconds": seconds}


def ray_rows(workdir: Path) -> list[dict]:
    folder = workdir / "docs"
    write_documents(folder, files=8, paragraphs=10)
    os.environ.update(DATASET_BUILDER_NO_DOTENV="1")
    local = _run(workdir, "local", folder)
    ray = import_ray()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 << 20,
             runtime_env=runtime_env(), log_to_driver=False)
    try:
        on_ray = _run(workdir, "ray", folder)
    finally:
        ray.shutdown()
    same = local["accepted"] == on_ray["accepted"] and on_ray["code"] == local["code"] == 0
    share = on_ray["rate"] / RAY_RATE
    notes = (f"create, {SIZE} samples wanted; local: {len(local['accepted'])} accepted, "
             f"{local['requests']} requests in {local['seconds']:.0f} s at "
             f"{local['rate']:.0f}/min, {local['429s']} 429s; Ray (2 CPUs, loopback): "
             f"{len(on_ray['accepted'])} accepted, {on_ray['requests']} requests in "
             f"{on_ray['seconds']:.0f} s at {on_ray['rate']:.0f}/min, {on_ray['429s']} 429s; "
             f"configured {RAY_RATE}/min, server allows {RAY_SERVER_RATE}/min, "
             f"{LATENCY_S * 1000:.0f} ms latency")
    return [
        {"name": "Ray engine: same accepted samples as the local engine", "value": int(same),
         "unit": "", "aim": "1 (identical ids and text)", "ok": same, "notes": notes},
        {"name": "Ray engine: shared limiter vs configured rate", "value": round(share * 100, 1),
         "unit": "%", "aim": ">= 95 %", "ok": share >= 0.95, "notes": notes},
        {"name": "Ray engine: 429s (local engine in notes)", "value": on_ray["429s"], "unit": "",
         "aim": "<= the local engine's", "ok": on_ray["429s"] <= local["429s"], "notes": notes},
    ]
