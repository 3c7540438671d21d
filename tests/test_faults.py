"""A create run against a misbehaving provider completes and accounts for every work item.

The fake server answers 5% of requests with 500, 2% with broken JSON and leaves 1% hanging, limits
the rate (429 with Retry-After beyond it) and starts with a scripted burst of every fault. One
document makes the "model" garble every reply, so its items stay malformed after the retry.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from src.agents.base_agent import stable_id
from src.config import db_path, load_config
from src.main import main
from src.pipeline.plan import MAX_PASSES, prepare
from src.pipeline.processor import dataset_sample_id
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import (
    generate,
    point_env_at,
    write_config,
    write_documents,
)

POISON = "Garbleword marks the passage this model always answers with broken JSON."
PER_SLOT = 3
SERVER_RPM = 1800  # the provider's real limit: 429 + Retry-After beyond it
CLIENT_RPM = 1500  # config.yaml's rate_limit, set just under the provider's


def garbling_responder(request: FakeRequest) -> dict | str:
    """The grounded model, except that it breaks its JSON for the poisoned passage."""
    if "Garbleword" in request.user:
        return '{"conversations": [{"questions": ["cut off'
    return grounded_responder(request)


def fault_config(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    write_documents(docs, files=20, paragraphs=2, sentences=6, seed=9)
    (docs / "poison.md").write_text("# Poison\n\n" + " ".join([POISON] * 12) + "\n")
    return write_config(tmp_path, **{"input.directory": str(docs), "dataset_size": 1000,
                                     "output_name": "faults", "budget_usd": 50.0,
                                     "system.timeout": 2, "system.max_retries": 4,
                                     "system.concurrency": 8,
                                     "system.rate_limit.requests_per_minute": CLIENT_RPM,
                                     "system.rate_limit.tokens_per_minute": 10**9,
                                     "agent.create.questions_per_chunk": PER_SLOT})


def sample_id(agent_id: str) -> str:
    return dataset_sample_id("faults", agent_id)


def stored_rows(sql: str, *params: object) -> list[dict]:
    with sqlite3.connect(db_path()) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def analyze_errors(name: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["analyze-errors", name])
    return code, out.getvalue() + err.getvalue()


@pytest.mark.slow
def test_run_under_faults_completes_and_accounts_for_every_slot(tmp_path, monkeypatch) -> None:
    config = fault_config(tmp_path)
    with FakeLLMServer(responder=garbling_responder, latency=0.02, seed=3,
                       fault_rates={"500": 0.05, "malformed": 0.02, "hang": 0.01},
                       requests_per_minute=SERVER_RPM, retry_after=1.0, hang_seconds=20) as server:
        server.script("429", "429", "429", "429", "hang", "500", "malformed")
        point_env_at(server, monkeypatch)
        plan = prepare(load_config(config))
        code, result, err = generate(config)
    assert code == 0, err
    assert result["stopped_reason"] == ""
    statuses = server.stats.statuses
    hangs = server.stats.requests - sum(statuses.values())
    assert statuses[500] >= 1 and statuses[429] >= 4 and hangs >= 1, (statuses, hangs)

    # Every scheduled slot is done (has samples) or failed with a reason, never both or neither.
    slots = {f"{chunk.id}@{p}" for chunk in plan.chunks for p in range(MAX_PASSES)}
    sample_ids = {r["id"] for r in stored_rows("SELECT id FROM samples")}
    done = {s for s in slots if any(sample_id(stable_id("create", s, i)) in sample_ids
                                    for i in range(PER_SLOT))}
    failures = stored_rows("SELECT item, category, message FROM failures")
    failed = {f["item"] for f in failures}
    assert done | failed == slots and not done & failed
    assert all(f["category"] and len(f["message"]) > 20 for f in failures)
    assert Counter(f["category"] for f in failures) == Counter(result["failures"])

    # The poisoned chunk failed as malformed_output on every pass and left a rejected stand-in.
    poison = next(c for c in plan.chunks if "Garbleword" in c.text)
    assert {f["item"] for f in failures if f["category"] == "malformed_output"} >= \
        {f"{poison.id}@{p}" for p in range(MAX_PASSES)}
    for p in range(MAX_PASSES):  # one rejected stand-in per failed work item
        stand_in = stored_rows("SELECT status, reasons FROM samples WHERE id = ?",
                               sample_id(stable_id("create", f"{poison.id}@{p}", "malformed")))
        assert stand_in == [{"status": "rejected", "reasons": "malformed_output"}]

    # Totals add up: accepted + rejected = stored rows; the summary's reasons match the rows.
    rows = stored_rows("SELECT status, reasons FROM samples")
    assert result["counts"]["samples"] + result["counts"]["rejected"] == len(rows)
    reasons = Counter(r for row in rows for r in row["reasons"].split(",") if r)
    assert result["summary"]["rejected_by_reason"] == dict(reasons)
    code, text = analyze_errors("faults")
    assert code == 0 and "malformed_output" in text
