"""`generate --engine ray` on a small local Ray (2 CPUs, loopback only, no dashboard) against the
fake LLM server: the same dataset as the local engine, one rate limit and one budget for every
worker, the resume cache kept by the driver's store. Ray is installed by `make test`
(requirements-ray.txt); one Ray serves the whole module and is shut down after it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from src.engine import ray_engine
from src.errors import UsageError
from tests.fake_llm_server import FakeLLMServer
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import generate, point_env_at, stored, write_config

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def local_ray():
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every Ray process on 127.0.0.1
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray = ray_engine.import_ray()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=96 << 20,
             runtime_env=ray_engine.runtime_env(), log_to_driver=False)
    try:
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        yield ray
    finally:
        ray.shutdown()


def _rows(name: str) -> list[tuple]:
    """Everything stored of a dataset that must not depend on the engine (ids included)."""
    return sorted((ex.id, ex.text, ex.source_file, ex.chunk_id, ex.span, tuple(ex.reasons),
                   tuple(sorted(ex.scores.items())), ex.split) for ex in stored(name))


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str, engine: str,
         **overrides: object) -> tuple[dict, str]:
    monkeypatch.setenv("DATASET_BUILDER_HOME", str(tmp_path / home))
    (tmp_path / home).mkdir(exist_ok=True)
    config = write_config(tmp_path / home, **{"system.engine": engine, **overrides})
    code, result, err = generate(config)
    assert code == 0 and result is not None, err
    return result, err


def test_ray_engine_makes_the_local_engines_dataset_and_resumes_from_its_cache(
        local_ray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = {}
    with FakeLLMServer(responder=grounded_responder) as server:
        point_env_at(server, monkeypatch)
        for mode in ("create", "identify"):
            local, _ = _run(tmp_path, monkeypatch, f"local_{mode}", "local", mode=mode)
            expected = _rows("pipe")
            sent = server.stats.requests
            results[mode], err = _run(tmp_path, monkeypatch, f"ray_{mode}", "ray", mode=mode)
            assert _rows("pipe") == expected and expected, err
            assert results[mode]["counts"] == local["counts"]
            assert results[mode]["requests"] == local["requests"] == server.stats.requests - sent
        assert results["create"]["requests"] > 0 and results["create"]["counts"]["samples"] == 16
        # Another dataset of the same documents: every reply comes from the cache the Ray
        # workers filled through the driver's store, and nothing is paid twice.
        sent = server.stats.requests
        again, _ = _run(tmp_path, monkeypatch, "ray_create", "ray", mode="create",
                        output_name="pipe_again")
        assert server.stats.requests == sent and again["requests"] == 0
        assert again["summary"]["cache_hits"] == results["create"]["requests"]
        assert again["counts"] == results["create"]["counts"]


def test_ray_workers_share_one_rate_limit_and_one_budget(
        local_ray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The server allows 120 requests/min, the config 100/min. Two agent actors with a limiter of
    # their own would send ~200/min and meet 429s; and each with a budget of its own would spend
    # the budget twice.
    budget = 0.0025
    with FakeLLMServer(responder=grounded_responder, requests_per_minute=120) as server:
        point_env_at(server, monkeypatch)
        started = time.monotonic()
        result, err = _run(tmp_path, monkeypatch, "limits", "ray", budget_usd=budget,
                           dataset_size=40, **{"system.rate_limit": {
                               "requests_per_minute": 100, "tokens_per_minute": 1_000_000}})
        elapsed = time.monotonic() - started
    sent = server.stats.requests
    assert server.stats.statuses.get(429, 0) == 0, err
    assert sent == result["requests"] >= 6 and elapsed >= (sent - 1) * 0.6 * 0.95
    billed = (server.stats.billed_input_tokens * 0.15 + server.stats.billed_output_tokens
              * 0.6) / 1_000_000  # gpt-4o-mini's price per million tokens
    assert 0 < billed <= budget and result["cost_usd"] <= budget, err
    assert result["stopped_reason"] == "budget" and result["failures"].get("budget")


def test_missing_ray_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray looks like
    with pytest.raises(UsageError, match="requirements-ray.txt"):
        ray_engine.import_ray()
