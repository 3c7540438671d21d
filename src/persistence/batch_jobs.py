"""Batch mode's bookkeeping (tables `batch_sessions`, `batch_jobs`, `batch_requests`).

A batch run of a dataset is a *session*: its configuration is kept so `batches NAME` can carry it
on from another process. Each provider batch is a *job*: its row and the rows of every request
in it are written in one transaction (state `submitting`) **before** the provider is asked to
create it, and completed with the provider's id after; a process killed in between finds the row
and looks the batch up by its tag instead of submitting again. Results are written per request
(answered, malformed, failed, expired, cancelled) with their usage and cost at batch prices; the
job is marked `collected` only after all of them are stored, so a kill while collecting only
means collecting again (the provider keeps results for days). No credential is ever written here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from src.persistence.sqlite_client import Database

IN_FLIGHT = ("submitting", "submitted")


@dataclass(frozen=True)
class NewRequest:
    """One request of a batch about to be submitted."""

    custom_id: str
    key: str  # the resume-cache key it answers
    attempt: int
    request: dict  # the request as sent (model, system, user, schema, ...)
    tokens_in: int
    worst_usd: float


def new_tag() -> str:
    """Our name for one provider batch (in every custom_id and in the batch's metadata)."""
    return "dsb-" + uuid.uuid4().hex[:12]


def open_session(db: Database, dataset: str, config: dict, free_prompt: str | None,
                 budget_usd: float) -> dict:
    """The dataset's batch run (open, or cancelling), started now if there is none or it is
    done (then with this configuration; an unfinished one keeps its own)."""
    row = session(db, dataset)
    if row is None or row["status"] == "done":
        db.conn.execute(
            "INSERT INTO batch_sessions (dataset, config, free_prompt, budget_usd, status) VALUES "
            "(?,?,?,?, 'open') ON CONFLICT(dataset) DO UPDATE SET config=excluded.config, "
            "free_prompt=excluded.free_prompt, budget_usd=excluded.budget_usd, status='open', "
            "created_at=CURRENT_TIMESTAMP, updated_at=CURRENT_TIMESTAMP",
            (dataset, json.dumps(config, default=str), free_prompt, budget_usd))
    elif budget_usd != row["budget_usd"]:  # a new cap: refusals made under the old one go
        db.conn.execute("UPDATE batch_sessions SET budget_usd = ?, config = ? WHERE dataset = ?",
                        (budget_usd, json.dumps(config, default=str), dataset))
        db.conn.execute("DELETE FROM batch_requests WHERE dataset = ? AND state = 'budget'",
                        (dataset,))
    found = session(db, dataset)
    assert found is not None
    return found


def session(db: Database, dataset: str) -> dict | None:
    return db.conn.execute("SELECT * FROM batch_sessions WHERE dataset = ?",
                           (dataset,)).fetchone()


def sessions(db: Database) -> list[dict]:
    return db.conn.execute("SELECT * FROM batch_sessions ORDER BY updated_at DESC").fetchall()


def close_session(db: Database, dataset: str) -> None:
    """The batch run is finished: its jobs and requests no longer count toward the next one."""
    with db.transaction() as conn:
        conn.execute("UPDATE batch_sessions SET status = 'done', updated_at = CURRENT_TIMESTAMP "
                     "WHERE dataset = ?", (dataset,))
        conn.execute("UPDATE batch_jobs SET open = 0 WHERE dataset = ?", (dataset,))
        conn.execute("UPDATE batch_requests SET open = 0 WHERE dataset = ?", (dataset,))


def record_job(db: Database, dataset: str, provider: str, model: str, tag: str, round_no: int,
               requests: list[NewRequest]) -> int:
    """Write a job and its requests (state submitting) before the provider hears of it."""
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO batch_jobs (dataset, provider, model, tag, round, requests, worst_usd) "
            "VALUES (?,?,?,?,?,?,?)", (dataset, provider, model, tag, round_no, len(requests),
                                       sum(r.worst_usd for r in requests)))
        job_id = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO batch_requests (custom_id, job_id, dataset, key, attempt, request, "
            "tokens_in, worst_usd) VALUES (?,?,?,?,?,?,?,?)",
            [(r.custom_id, job_id, dataset, r.key, r.attempt,
              json.dumps(r.request, ensure_ascii=False), r.tokens_in, r.worst_usd)
             for r in requests])
    return job_id


def job_submitted(db: Database, job_id: int, batch_id: str, status: str) -> None:
    db.conn.execute("UPDATE batch_jobs SET batch_id = ?, state = 'submitted', provider_status = ?, "
                    "updated_at = CURRENT_TIMESTAMP WHERE id = ?", (batch_id, status, job_id))


def job_status(db: Database, job_id: int, status: str) -> None:
    db.conn.execute("UPDATE batch_jobs SET provider_status = ?, updated_at = CURRENT_TIMESTAMP "
                    "WHERE id = ?", (status, job_id))


def job_abandoned(db: Database, job_id: int, reason: str) -> None:
    """The provider never created this batch: its requests were not sent and are forgotten (the
    next round asks for them again)."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM batch_requests WHERE job_id = ?", (job_id,))
        conn.execute("UPDATE batch_jobs SET state = 'abandoned', error = ?, worst_usd = 0, "
                     "updated_at = CURRENT_TIMESTAMP WHERE id = ?", (reason, job_id))


def job_collected(db: Database, job_id: int, status: str, error: str = "") -> None:
    db.conn.execute(
        "UPDATE batch_jobs SET state = 'collected', provider_status = ?, error = ?, cost_usd = "
        "(SELECT COALESCE(SUM(cost_usd), 0) FROM batch_requests WHERE job_id = ?), "
        "updated_at = CURRENT_TIMESTAMP WHERE id = ?", (status, error, job_id, job_id))


def jobs(db: Database, dataset: str | None = None, open_only: bool = False) -> list[dict]:
    sql, params = "SELECT * FROM batch_jobs WHERE 1=1", []
    if dataset is not None:
        sql, params = sql + " AND dataset = ?", [dataset]
    if open_only:
        sql += " AND open = 1"
    return db.conn.execute(sql + " ORDER BY id", params).fetchall()


def job_requests(db: Database, job_id: int) -> list[dict]:
    rows = db.conn.execute("SELECT * FROM batch_requests WHERE job_id = ? ORDER BY rowid",
                           (job_id,)).fetchall()
    for row in rows:
        row["request"] = json.loads(row["request"])
    return rows


def set_result(db: Database, custom_id: str, state: str, error: str = "", input_tokens: int = 0,
               output_tokens: int = 0, cost_usd: float = 0.0) -> None:
    db.conn.execute("UPDATE batch_requests SET state = ?, error = ?, input_tokens = ?, "
                    "output_tokens = ?, cost_usd = ? WHERE custom_id = ?",
                    (state, error, input_tokens, output_tokens, cost_usd, custom_id))


def history(db: Database, dataset: str, key: str) -> list[dict]:
    """Every submission of one request in the open batch run, oldest first."""
    return db.conn.execute("SELECT custom_id, job_id, attempt, state, error, input_tokens, "
                           "output_tokens, cost_usd, request FROM batch_requests WHERE "
                           "dataset = ? AND key = ? AND open = 1 ORDER BY attempt, rowid",
                           (dataset, key)).fetchall()


def refuse_for_budget(db: Database, dataset: str, key: str, request: dict, message: str) -> None:
    """Remember that this request was not submitted because of the cap (replays stop there)."""
    db.conn.execute("INSERT INTO batch_requests (custom_id, dataset, key, request, state, error) "
                    "VALUES (?,?,?,?, 'budget', ?)",
                    ("budget-" + uuid.uuid4().hex[:12], dataset, key,
                     json.dumps(request, ensure_ascii=False), message))


def spent_and_reserved(db: Database, dataset: str) -> tuple[float, float]:
    """USD charged for results of the open batch run, and USD reserved for requests in flight."""
    row = db.conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN state != 'submitted' THEN cost_usd END), 0) AS spent, "
        "COALESCE(SUM(CASE WHEN state = 'submitted' THEN worst_usd END), 0) AS reserved "
        "FROM batch_requests WHERE dataset = ? AND open = 1 AND job_id IS NOT NULL",
        (dataset,)).fetchone()
    return float(row["spent"]), float(row["reserved"])


def batch_spend(db: Database, dataset: str, open_only: bool = False) -> dict:
    """Requests, tokens and cost of the batch results of a dataset (every batch run, or only the
    open one)."""
    row = db.conn.execute(
        "SELECT COUNT(*) AS requests, COALESCE(SUM(input_tokens), 0) AS input_tokens, "
        "COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost_usd), 0.0) AS "
        "cost_usd FROM batch_requests WHERE dataset = ? AND job_id IS NOT NULL AND state NOT IN "
        "('submitted', 'budget')" + (" AND open = 1" if open_only else ""), (dataset,)).fetchone()
    return {"requests": row["requests"], "input_tokens": row["input_tokens"],
            "output_tokens": row["output_tokens"], "cost_usd": round(float(row["cost_usd"]), 6)}


def set_session_status(db: Database, dataset: str, status: str) -> None:
    db.conn.execute("UPDATE batch_sessions SET status = ?, updated_at = CURRENT_TIMESTAMP "
                    "WHERE dataset = ?", (status, dataset))
