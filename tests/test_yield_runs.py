"""Create runs as a user sees them (issue 20), against the fake server: a run that falls short of
the size says how far, why and what to change (before the run too); timeouts, 429s and 5xx are
counted in the JSON, on screen and in the log; samples are stored as each work item finishes,
while later requests are still going out; a model's habits never reach the exported files."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from src.config import db_path
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import RealisticResponder, grounded_responder
from tests.pipeline_helpers import (
    FAST_LIMITS,
    cli_env,
    generate,
    point_env_at,
    provider_env,
    run_cli,
    write_config,
    write_documents,
)

SIZE = 200  # far above what the tiny corpora below hold


def tiny_job(tmp_path: Path, files: int = 2, **overrides: object) -> Path:
    """`files` documents of one paragraph of 6 sentences: one chunk each, 2 questions per
    request, 6 pairs per chunk over the 3 passes."""
    docs = tmp_path / "docs"
    write_documents(docs, files=files, paragraphs=1, sentences=6, seed=3)
    return write_config(tmp_path, **{"input.directory": str(docs), "dataset_size": SIZE,
                                     "output_name": "tiny", "system.rate_limit": FAST_LIMITS,
                                     **overrides})


def shortfall_warning(result: dict) -> str:
    found = [w for w in result["warnings"] if w.startswith("Made ")]
    assert len(found) == 1, result["warnings"]
    return found[0]


@pytest.fixture(name="server")
def server_fixture(monkeypatch: pytest.MonkeyPatch):
    with FakeLLMServer(responder=grounded_responder) as fake:
        point_env_at(fake, monkeypatch)
        yield fake


# ------------------------------------------------------------------ shortfall


def test_chunks_that_run_out_are_said_before_and_after_the_run(server, tmp_path: Path) -> None:
    config = tiny_job(tmp_path)
    code, result, err = generate(config)
    assert code == 0, err
    made = result["counts"]["samples"]
    assert 0 < made <= 12
    assert "2 chunk(s) of up to" in err and "they can give at most 12 pairs" in err
    assert "These 2 chunks can give at most 12 pairs" in err
    assert f"fewer than the {SIZE} to create: the run will stop short" in err
    message = shortfall_warning(result)
    assert message.startswith(f"Made {made:,} of the {SIZE} samples asked for: the 2 chunks ran "
                              "out: each was asked about 3 times, 12 questions at most")
    assert "To get more: add documents" in message
    assert "questions_per_chunk" in message and "analyze-errors tiny" in message
    assert message in err  # said on screen too, not only in the JSON
    short = result["summary"]["shortfall"]
    assert (short["asked"], short["made"]) == (SIZE, made) and short["message"] == message
    assert server.stats.requests == 2 * 3  # every chunk, every pass: nothing left to ask


def test_a_run_that_makes_its_size_has_no_shortfall(server, tmp_path: Path) -> None:
    config = tiny_job(tmp_path, dataset_size=4)
    code, result, err = generate(config)
    assert code == 0, err
    assert result["counts"]["samples"] == 4
    assert result["summary"]["shortfall"] == {}
    assert not [w for w in result["warnings"] if w.startswith("Made ")]
    assert "can give at most" not in " ".join(result["warnings"])


def test_a_run_stopped_by_its_budget_says_so_and_what_to_do(server, tmp_path: Path) -> None:
    config = tiny_job(tmp_path, files=6, budget_usd=0.002)  # gpt-4o-mini's price: a few requests
    code, result, err = generate(config)
    assert code == 0, err
    assert result["stopped_reason"]
    made = result["counts"]["samples"]
    message = shortfall_warning(result)
    assert message.startswith(f"Made {made:,} of the {SIZE} samples asked for: the run stopped (")
    assert "run the same command again" in message
    assert server.stats.requests < 6 * 3


def half_broken(request: FakeRequest) -> dict | str:
    """The grounded model, except that every reply about guide 1 is cut off (malformed)."""
    if "guide_01.md" in request.user:
        return '{"conversations": [{"n": 1, "turns": [{"question": "cut off'
    return grounded_responder(request)


def test_failed_work_items_are_named_in_the_shortfall(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    config = tiny_job(tmp_path, files=2)
    with FakeLLMServer(responder=half_broken) as server:
        point_env_at(server, monkeypatch)
        code, result, err = generate(config)
    assert code == 0, err
    assert result["failures"] == {"malformed_output": 3}  # guide 1's three passes
    message = shortfall_warning(result)
    assert "3 work item(s) failed" in message and "run the same command again" in message


# ------------------------------------------------------------------ network counters


def test_timeouts_429s_and_server_errors_are_counted_everywhere(tmp_path: Path) -> None:
    config = tiny_job(tmp_path, files=2, dataset_size=6, output_name="faulty",
                      **{"system.timeout": 1, "system.max_retries": 5})
    home = tmp_path / "home"
    with FakeLLMServer(responder=grounded_responder, hang_seconds=3, retry_after=0.05,
                       error_retry_after=0.05) as server:
        server.script("hang", "429", "500", "503")  # the first request goes alone: all are its
        code, result, err = run_cli(config, tmp_path / "work", cli_env(home, provider_env(server)),
                                    timeout=60)
    assert code == 0, err
    assert result["summary"]["network"] == {"timeouts": 1, "rate_limited_429": 1,
                                            "server_errors": 2, "connection_errors": 0,
                                            "retries": 4}
    assert result["counts"]["samples"] == 6 and not result["failures"]
    assert "Network: 1 timed out, 1 429 (rate limited), 2 server error; 4 tried again" in err
    log = (home / "memory" / "logs" / "builder.log").read_text(encoding="utf-8")
    assert len(re.findall(r"openai request failed \(timeout\), trying again", log)) == 1
    assert len(re.findall(r"openai request failed \(rate limited\), trying again", log)) == 1
    assert len(re.findall(r"openai request failed \(server error\), trying again", log)) == 2
    summary_line = re.search(r"run (\w+) done: (\d+) requests sent, (\d+) retried \((.*)\)", log)
    assert summary_line is not None, log[-2000:]
    assert summary_line.group(3) == "4"
    assert summary_line.group(4) == ("timeouts 1, rate_limited_429 1, server_errors 2, "
                                     "connection_errors 0")
    with sqlite3.connect(home / "memory" / "dataset_builder.db") as conn:
        stored = json.loads(conn.execute("SELECT summary FROM runs").fetchone()[0])
    assert stored["network"] == result["summary"]["network"]


def test_a_clean_run_counts_no_network_trouble(server, tmp_path: Path) -> None:
    code, result, err = generate(tiny_job(tmp_path, dataset_size=4))
    assert code == 0, err
    assert set(result["summary"]["network"].values()) == {0}
    assert "Requests that failed" not in err


# ------------------------------------------------------------------ scored and stored as each finishes


def test_samples_are_stored_as_each_work_item_finishes(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    config = tiny_job(tmp_path, files=4, dataset_size=14, **{"system.concurrency": 1})
    database = db_path()
    stored_when_asked: list[int] = []
    written: list[int] = []

    def watching(request: FakeRequest) -> dict | str:
        with sqlite3.connect(database) as conn:  # what the run had stored when this came in
            stored_when_asked.append(conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
        reply = grounded_responder(request)
        written.append(len(reply["conversations"]))
        return reply
    with FakeLLMServer(responder=watching) as server:
        point_env_at(server, monkeypatch)
        code, result, err = generate(config)
    assert code == 0, err
    assert result["counts"]["samples"] == 14
    assert len(written) >= 5  # 2 pairs per request: the run took several work items
    # one work item at a time: when each request came in, every earlier item's samples (accepted
    # and rejected) were already scored and stored, not held back until the end of a batch
    assert stored_when_asked == [sum(written[:i]) for i in range(len(written))]


# ------------------------------------------------------------------ a model's habits, end to end


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_a_model_with_real_habits_still_fills_the_dataset_with_clean_pairs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tiny_job(tmp_path, files=6, dataset_size=20)
    responder = RealisticResponder(seed=7, from_zero=0.4, unnumbered=0.3, delimiters=0.5,
                                   labels=0.5)
    with FakeLLMServer(responder=responder) as server:
        point_env_at(server, monkeypatch)
        code, result, err = generate(config)
        replies = [responder(r) for r in server.stats.received]
    assert code == 0, err
    raw = [a for r in replies for a in strings(r)]
    assert any(a.startswith('"""') for a in raw) and any(a.startswith("Answer: ") for a in raw)
    assert result["counts"]["samples"] == 20 and not result["failures"]
    reasons = result["summary"]["rejected_by_reason"]
    assert not {"no_answer_in_context", "malformed_output"} & set(reasons), reasons
    for kind in ("train", "validation"):
        for line in Path(result["files"][kind]).read_text(encoding="utf-8").splitlines():
            for text in strings(json.loads(line)):
                assert '"""' not in text and not text.startswith(("Answer:", "Q1:")), text


def test_the_plans_batch_line_does_not_promise_two_requests_per_chunk(server, tmp_path: Path) -> None:
    code, result, err = generate(tiny_job(tmp_path, dataset_size=4))
    assert code == 0, err
    batch_line = next(line for line in err.splitlines() if line.startswith("Batch API"))
    assert "then answers" not in batch_line
