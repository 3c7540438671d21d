"""Fine-tuning jobs and the files uploaded for them (tables `train_jobs`, `train_uploads`).

An upload is recorded as soon as the provider has the file, before any job is created, so a run
killed in between reuses the file. A job row is written (state `creating`) before the create call
and completed with the provider's id after it, so a run killed during the call can look for the
job instead of creating a second one. No credential is ever written here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from src.persistence.sqlite_client import Database

TERMINAL_STATES = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class NewJob:
    """What is known about a job before the provider is asked to create it."""

    run_key: str
    dataset_id: str
    dataset_name: str
    provider: str
    model: str
    job_model: str
    settings: dict[str, Any]
    destination: str
    files: dict[str, str]
    examples: int
    tokens: int
    cost_estimate_usd: float | None
    cost_note: str


def _job(row: dict | None) -> dict | None:
    if row is not None:
        row["settings"] = json.loads(row.get("settings") or "{}")
        row["files"] = json.loads(row.get("files") or "{}")
    return row


def find_upload(db: Database, provider: str, destination: str, sha256: str) -> dict | None:
    """The recorded upload of these bytes to this destination, or None."""
    return db.conn.execute("SELECT * FROM train_uploads WHERE provider = ? AND destination = ? "
                           "AND sha256 = ?", (provider, destination, sha256)).fetchone()


def record_upload(db: Database, provider: str, destination: str, sha256: str, file_ref: str,
                  size: int, filename: str) -> None:
    """Remember an uploaded file (autocommit: durable before the job is created)."""
    db.conn.execute("INSERT OR REPLACE INTO train_uploads (provider, destination, sha256, "
                    "file_ref, bytes, filename) VALUES (?,?,?,?,?,?)",
                    (provider, destination, sha256, file_ref, size, filename))


def forget_upload(db: Database, provider: str, destination: str, sha256: str) -> None:
    """Drop a recorded upload the provider no longer has, so the next run uploads it again."""
    db.conn.execute("DELETE FROM train_uploads WHERE provider = ? AND destination = ? AND "
                    "sha256 = ?", (provider, destination, sha256))


def jobs_for_key(db: Database, run_key: str) -> list[dict]:
    """Every job recorded for one dataset + target + settings + file contents, newest first."""
    rows = db.conn.execute("SELECT * FROM train_jobs WHERE run_key = ? ORDER BY id DESC",
                           (run_key,)).fetchall()
    return [r for r in map(_job, rows) if r is not None]


def begin_job(db: Database, job: NewJob) -> int:
    """Write the job row (state `creating`) before the provider is asked; returns its row id."""
    cursor = db.conn.execute(
        "INSERT INTO train_jobs (run_key, dataset_id, dataset_name, provider, model, job_model, "
        "settings, destination, files, examples, tokens, cost_estimate_usd, cost_note) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (job.run_key, job.dataset_id, job.dataset_name, job.provider, job.model, job.job_model,
         json.dumps(job.settings), job.destination, json.dumps(job.files), job.examples,
         job.tokens, job.cost_estimate_usd, job.cost_note))
    return int(cursor.lastrowid or 0)


def set_files(db: Database, row_id: int, files: dict[str, str]) -> None:
    db.conn.execute("UPDATE train_jobs SET files = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?",
                    (json.dumps(files), row_id))


def update_job(db: Database, row_id: int, **fields: Any) -> None:
    """Set job_id, status, state, fine_tuned_model, error, cost_estimate_usd or cost_note."""
    allowed = {"job_id", "status", "state", "fine_tuned_model", "error", "cost_estimate_usd",
               "cost_note"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a train_jobs field: {', '.join(sorted(unknown))}")
    if not fields:
        return
    columns = ", ".join(f"{name} = ?" for name in fields)
    db.conn.execute(f"UPDATE train_jobs SET {columns}, updated_at = CURRENT_TIMESTAMP "
                    "WHERE id = ?", (*fields.values(), row_id))


def get_job(db: Database, row_id: int) -> dict:
    row = _job(db.conn.execute("SELECT * FROM train_jobs WHERE id = ?", (row_id,)).fetchone())
    if row is None:
        raise KeyError(row_id)
    return row


def list_jobs(db: Database, dataset_names: tuple[str, ...] = ()) -> list[dict]:
    """Recorded jobs (of these datasets, or all), newest first."""
    sql, params = "SELECT * FROM train_jobs", tuple(dataset_names)
    if dataset_names:
        sql += f" WHERE dataset_name IN ({', '.join('?' * len(dataset_names))})"
    rows = db.conn.execute(sql + " ORDER BY id DESC", params).fetchall()
    return [r for r in map(_job, rows) if r is not None]


def delete_job(db: Database, row_id: int) -> None:
    """Drop a job row the provider refused outright (nothing was created there)."""
    db.conn.execute("DELETE FROM train_jobs WHERE id = ?", (row_id,))
