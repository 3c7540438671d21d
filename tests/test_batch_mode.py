"""Batch mode (`generate --batch`, `batches`) through the four providers' Batch APIs.

The real SDKs talk to tests/fake_batch_server.py, which answers a batch line exactly as its live
endpoint would answer the same request (same responder, same token counts). So a batch run can be
compared with a live run of the same job: same accepted samples, half the cost, and no request to
the live endpoint.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from src.config import db_path
from src.main import main
from src.persistence import batch_jobs
from src.persistence.sqlite_client import Database
from tests.fake_batch_server import FakeBatchServer
from tests.grounded_responder import grounded_responder
from tests.judge_responder import is_judge_request, judging_responder
from tests.pipeline_helpers import SAMPLES, generate, point_env_at, stored, write_config

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "google": "gemini-2.5-flash",
          "mistral": "mistral-small-latest"}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeBatchServer(responder=grounded_responder) as fake:
        point_env_at(fake, monkeypatch)
        yield fake


def agent(tmp_path: Path, provider: str = "openai", **overrides) -> Path:
    return write_config(tmp_path, **{"system.agentic_llm": provider,
                                     "system.agentic_model": MODELS[provider], **overrides})


def until_done(config: Path, *extra: str, rounds: int = 8) -> tuple[dict, str]:
    """`generate --batch` again and again (as a user would) until the run is finished."""
    said = ""
    for _ in range(rounds):
        code, result, err = generate(config, "--batch", *extra)
        said += err
        assert result is not None, err
        if result.get("batch_state") in ("done", "stopped", "cancelled"):
            return result, said
        assert code == 0, err
    raise AssertionError(f"not finished after {rounds} rounds:\n{said}")


def accepted(name: str = "pipe") -> dict[str, tuple]:
    return {e.id: (tuple((t.role, t.content) for t in e.turns), e.scores.get("overall"), e.split)
            for e in stored(name) if not e.reasons}


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def content_keys(server: FakeBatchServer) -> list[tuple[str, str]]:
    """What each batch line asked (a request sent twice would appear twice)."""
    return [(req.system, req.user) for b in server.batches.values() for _, req in b.lines]


@pytest.mark.parametrize("provider", list(MODELS))
def test_create_through_each_batch_api_equals_a_live_run_at_half_price(
        server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    config = agent(tmp_path, provider)
    code, live, err = generate(config)
    assert code == 0, err
    live_requests, reference = server.stats.requests, accepted()
    assert len(reference) == 16

    monkeypatch.setenv("DATASET_BUILDER_HOME", str(tmp_path / "batch_home"))
    result, said = until_done(config)
    assert server.stats.requests == live_requests  # not one request to the live endpoint
    assert result["requests"] == 0 and result["batch_state"] == "done"
    assert accepted() == reference  # same samples, same scores, same split
    assert sorted(content_keys(server)) == sorted({k for k in content_keys(server)})
    assert len(content_keys(server)) == live_requests  # each request once, none twice
    assert len(server.batches) == 2  # what the run needs at first, then the rest
    assert result["summary"]["batch"]["requests"] == live_requests
    assert result["cost_usd"] == pytest.approx(live["cost_usd"] / 2, abs=1e-6)
    assert "Round 1: submitted 5 requests" in said and "0 live requests" in said

    code, out, _ = cli("stats", "pipe", "--json")
    cost = json.loads(out)["cost"]
    assert cost["live_usd"] == 0 and cost["batch_usd"] == pytest.approx(result["cost_usd"])
    assert cost["batch_requests"] == live_requests and cost["live_requests"] == 0


def test_failed_expired_and_malformed_lines_are_retried_once(server, tmp_path: Path) -> None:
    server.script_lines("error", "expired", "malformed", "offschema")
    result, said = until_done(agent(tmp_path))
    assert result["counts"]["samples"] == 16 and not result["failures"]
    assert "1 expired, 1 failed, 2 malformed" in said
    assert len(content_keys(server)) == 8 + 4  # the four again, nothing else twice
    repairs = [req for _, req in list(server.batches.values())[1].lines
               if "Your previous reply could not be used" in req.user]
    assert len(repairs) == 2  # malformed and off-schema got the one repair request


def test_a_line_that_fails_twice_is_a_recorded_failure_with_its_reason(server, tmp_path) -> None:
    server.script_lines(*["error"] * 10)  # the first 5 requests, and their retries
    result, said = until_done(agent(tmp_path))
    assert result["failures"] == {"rejected": 5}  # those 5 passages: recorded, not silent
    assert result["counts"]["samples"] == 16  # the run went on with the next passages, as live
    with Database(db_path()) as db:
        messages = [r["message"] for r in db.conn.execute("SELECT message FROM failures")]
    assert len(messages) == 5
    assert all("failed this request twice: fake line error" in m for m in messages)
    assert "5 failed" in said


def test_an_expired_batch_keeps_what_ran_and_retries_the_rest(server, tmp_path: Path) -> None:
    server.script_batches("expired")
    result, said = until_done(agent(tmp_path))
    assert result["counts"]["samples"] == 16
    assert "2 answered, 3 expired" in said
    assert len(content_keys(server)) == 8 + 3


def test_a_batch_that_failed_validation_is_submitted_once_more(server, tmp_path) -> None:
    server.script_batches("failed")
    result, said = until_done(agent(tmp_path))
    assert result["counts"]["samples"] == 16 and not result["failures"]
    assert "ended failed; 5 failed" in said
    assert len(server.batches) == 3 and len(content_keys(server)) == 8 + 5


def test_the_budget_reserves_the_worst_case_and_is_never_crossed(server, tmp_path) -> None:
    budget = 0.0015
    result, said = until_done(agent(tmp_path, budget_usd=budget))
    assert "would cross budget_usd" in said
    assert result["batch_state"] == "stopped" and "Budget" in result["stopped_reason"]
    assert 0 < result["cost_usd"] <= budget
    with Database(db_path()) as db:
        spent, reserved = batch_jobs.spent_and_reserved(db, "pipe")
    assert reserved == 0


def test_wait_follows_the_run_to_its_end_with_a_progress_line(tmp_path, monkeypatch) -> None:
    with FakeBatchServer(responder=grounded_responder, polls_to_finish=3) as fake:
        point_env_at(fake, monkeypatch)
        code, result, err = generate(agent(tmp_path, **{"system.batch_poll_seconds": 0.01}),
                                     "--batch", "--wait")
    assert code == 0, err
    assert result["batch_state"] == "done" and result["counts"]["samples"] == 16
    assert "running (counts not given)" in err or "in_progress" in err
    assert err.count("pipe: Round") >= 4  # a line per poll while a batch ran


def test_batches_lists_runs_and_carries_one_on_from_its_stored_config(server, tmp_path) -> None:
    server.polls_to_finish = 2  # --wait must poll again
    code, result, err = generate(agent(tmp_path, **{"system.batch_poll_seconds": 0.01}), "--batch")
    assert code == 0 and result["batch_state"] == "submitted", err
    code, out, _ = cli("batches", "--json")
    runs = json.loads(out)
    assert [(r["dataset"], r["status"], r["in_flight"]) for r in runs] == [("pipe", "open", 1)]
    code, out, err = cli("batches", "pipe", "--wait", "--json")
    assert code == 0, err
    assert json.loads(out)["counts"]["samples"] == 16
    code, out, _ = cli("batches")
    assert "pipe" in out and "done" in out


def test_cancel_stops_submitting_and_keeps_what_was_collected(server, tmp_path) -> None:
    server.polls_to_finish = 99
    generate(agent(tmp_path), "--batch")
    code, out, err = cli("batches", "pipe", "--cancel")
    assert code == 0, err
    assert "Asked openai to cancel batch" in err and "cancelled" in err
    assert len(server.batches) == 1
    code, out, _ = cli("batches", "--json")
    assert json.loads(out)[0]["status"] == "done"


def test_the_judge_runs_in_its_own_round(tmp_path, monkeypatch) -> None:
    with FakeBatchServer(responder=judging_responder()) as fake:
        point_env_at(fake, monkeypatch)
        config = agent(tmp_path, **{"quality.llm_judge": True})
        code, live, err = generate(config)
        assert code == 0, err
        reference, live_requests = accepted(), fake.stats.requests
        monkeypatch.setenv("DATASET_BUILDER_HOME", str(tmp_path / "batch_home"))
        result, _ = until_done(config)
        assert fake.stats.requests == live_requests
        judged = [req for b in fake.batches.values() for _, req in b.lines
                  if is_judge_request(req)]
        kinds = [{is_judge_request(req) for _, req in b.lines} for b in fake.batches.values()]
    assert judged and all(len(k) == 1 for k in kinds)  # the judge in rounds of its own
    assert kinds[0] == {False} and kinds[-1] == {True}  # after the samples it judges
    assert accepted() == reference
    assert result["cost_usd"] == pytest.approx(live["cost_usd"] / 2, abs=1e-6)


def test_refusals_name_what_to_change(server, tmp_path: Path) -> None:
    code, _, err = generate(agent(tmp_path, **{"system.engine": "ray"}), "--batch")
    assert code == 2 and "system.batch and system.engine: ray cannot be combined" in err
    config = write_config(tmp_path, **{"system.agentic_llm": "llama",
                                       "system.agentic_model": "llama3.1:8b"})
    code, _, err = generate(config, "--batch")
    assert code == 2 and "llama has no Batch API here" in err
    assert server.stats.requests == 0 and not server.batches


def test_hybrid_with_identifys_llm_stage_runs_that_stage_first(server, tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    shutil.copytree(SAMPLES, docs)
    (docs / "campus.txt").write_text(  # a question with no Q:/A: pattern: for the LLM stage
        "Can I bring my bicycle to campus? Bicycles are allowed and can be parked at the racks "
        "beside the north gate.\n", encoding="utf-8")
    config = agent(tmp_path, **{"mode": "hybrid", "agent.identify.use_llm": True,
                                "input.directory": str(docs)})
    code, live, err = generate(config)
    assert code == 0, err
    reference, live_requests = accepted(), server.stats.requests
    monkeypatch.setenv("DATASET_BUILDER_HOME", str(tmp_path / "batch_home"))
    result, _ = until_done(config)
    assert server.stats.requests == live_requests
    assert accepted() == reference
    identify = {(r.system, r.user) for r in server.stats.received if "turns" in str(r.schema)}
    first = list(server.batches.values())[0]
    # identify's LLM stage comes first, alone (its reply is off-schema: the repair is round 2)
    assert identify and all((req.system, req.user) in identify for _, req in first.lines)
    asked = content_keys(server)  # each distinct request once (live sent two identical ones)
    assert len(asked) == len(set(asked)) == len({(r.system, r.user)
                                                 for r in server.stats.received})


def test_free_mode_asks_what_it_needs_then_the_rest(server, tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Write help-desk conversations for new students.")
    result, _ = until_done(agent(tmp_path, mode="free", dataset_size=8,
                                 **{"agent.free.prompt_file": str(prompt)}))
    # round 1 asks as if every pair will pass; the quality checks reject some; round 2 the rest
    first, *rest = server.batches.values()
    assert result["counts"]["samples"] == 8 and len(rest) == 1
    assert len(rest[0].lines) < len(first.lines)
    assert all("help-desk conversations" in req.system for b in server.batches.values()
               for _, req in b.lines)


def test_batches_are_cut_at_the_providers_request_and_byte_caps() -> None:
    from src.providers.base_provider import Request
    from src.providers.batch_openai import OpenAIBatch
    from src.providers.openai_provider import OpenAIProvider

    class Small(OpenAIBatch):
        max_requests, max_bytes = 3, 2_000

    adapter = Small(OpenAIProvider("sk-test", "http://127.0.0.1:9/v1", 5), 0)
    lines = [adapter.line(f"dsb-0123456789ab-{i:06d}", Request("m", "s", "x" * n, {}))
             for i, n in enumerate([10, 10, 10, 10, 900, 900, 10])]
    assert adapter.shard_sizes(lines) == [3, 2, 2]  # 3 by count, then two by bytes
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", line["custom_id"]) for line in lines)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", batch_jobs.new_tag() + "-000000")
