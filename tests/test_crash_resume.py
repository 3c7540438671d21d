"""SIGKILL a create job at random points, resume it, and check nothing is lost, doubled or repaid.

The fake provider runs in this test process, so it outlives every killed `generate` subprocess and
counts what it received across all of them. An uninterrupted run in another home is the reference.
"""

from __future__ import annotations

import hashlib
import random
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from src.targets.validator import validate_file
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import (
    FAST_LIMITS,
    cli_env,
    generate,
    provider_env,
    run_cli,
    start_cli,
    stored,
    write_config,
    write_documents,
)

CONCURRENCY = 8
KILLS = 3
FILES = 60  # one chunk each, 4 questions per request: 600 samples take 150 of the 180 slots
SIZE = 600
LATENCY = 0.03


def job_config(tmp_path: Path) -> Path:
    """A create job whose last work item crosses the size (so the choice must be stable)."""
    docs = tmp_path / "docs"
    write_documents(docs, files=FILES, paragraphs=2, sentences=6, seed=5)
    return write_config(tmp_path, **{"input.directory": str(docs), "dataset_size": SIZE,
                                     "output_name": "crash", "budget_usd": 50.0,
                                     "chunking.chunk_tokens": 900,
                                     "system.concurrency": CONCURRENCY,
                                     "system.rate_limit": FAST_LIMITS})


def request_key(req: FakeRequest) -> str:
    return hashlib.sha256("\x1f".join((req.wire, req.system, req.user)).encode()).hexdigest()


def samples(home: Path) -> list[dict]:
    with sqlite3.connect(home / "memory" / "dataset_builder.db") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT id, status, reasons, content FROM samples")]


def jsonl_lines(result: dict) -> list[str]:
    lines = []
    for kind in ("train", "validation"):
        lines += Path(result["files"][kind]).read_text(encoding="utf-8").splitlines()
    return sorted(lines)


def kill_at(proc, server: FakeLLMServer, target: int) -> tuple[bool, int]:
    """SIGKILL `proc` once the server has received `target` requests; (killed?, in flight)."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and server.stats.requests < target and time.monotonic() < deadline:
        time.sleep(0.002)
    in_flight = server.stats.in_flight
    if proc.poll() is not None:
        return False, 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return True, in_flight


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    config = job_config(tmp_path)
    with FakeLLMServer(responder=grounded_responder, latency=LATENCY) as reference_server:
        env = cli_env(tmp_path / "ref_home", provider_env(reference_server))
        code, reference, err = run_cli(config, tmp_path / "ref", env)
    assert code == 0, err
    expected_requests = len({request_key(r) for r in reference_server.stats.received})
    assert SIZE // 4 <= expected_requests == reference_server.stats.requests < 3 * FILES

    rng = random.Random(20240610)
    home, work = tmp_path / "home", tmp_path / "work"
    with FakeLLMServer(responder=grounded_responder, latency=LATENCY) as server:
        env = cli_env(home, provider_env(server))
        killed = []
        for n in range(KILLS):
            proc = start_cli(config, work, env, tag=f"killed{n}")
            target = server.stats.requests + rng.randint(15, 60)
            was_killed, in_flight = kill_at(proc, server, target)
            assert was_killed, "the run finished before it could be killed"
            killed.append(in_flight)
        code, result, err = run_cli(config, work, env, tag="final")
    assert code == 0, err
    assert "Traceback" not in err

    # Every expected sample, nothing more: the same ids and the same exported lines.
    final_rows, reference_rows = samples(home), samples(tmp_path / "ref_home")
    assert sorted((r["id"], r["status"], r["reasons"]) for r in final_rows) == \
        sorted((r["id"], r["status"], r["reasons"]) for r in reference_rows)
    assert result["counts"] == reference["counts"]
    assert jsonl_lines(result) == jsonl_lines(reference)
    assert result["summary"]["cache_hits"] > 0

    # No duplicate rows: no two stored samples hold the same conversation.
    contents = Counter(r["content"] for r in final_rows)
    assert max(contents.values()) == 1
    for kind in ("train", "validation"):
        report = validate_file(result["files"][kind], "openai", "gpt-4o-mini", split=kind)
        assert report.ok, report.to_dict()

    # The server was asked for each request once, plus at most what was in flight at each kill;
    # which work items beyond the size were in flight when it was reached depends on timing.
    sent = Counter(request_key(r) for r in server.stats.received)
    repeats = sum(count - 1 for count in sent.values())
    assert abs(len(sent) - expected_requests) <= CONCURRENCY
    assert repeats <= CONCURRENCY * KILLS, (repeats, killed)


def test_rerun_and_a_second_dataset_of_the_same_input_keep_their_own_rows(tmp_path) -> None:
    config = write_config(tmp_path, mode="identify", dataset_size=50, output_name="one")
    for name in ("one", "one", "two"):
        code, result, err = generate(config, "--output-name", name)
        assert code == 0, err
    one, two = stored("one"), stored("two")
    assert len(one) == len(two) == result["counts"]["samples"] > 0  # nothing re-added or moved
    assert not {ex.id for ex in one} & {ex.id for ex in two}
