"""SQLite store: datasets, samples (accepted and rejected), runs, failures, the paid-response cache.

Plain `sqlite3` with dict rows, no ORM. Schema changes are numbered functions in `MIGRATIONS`, each run
once inside a transaction and recorded in `migrations`; they are applied on every open.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from src.errors import DatasetNotFound, StorageError
from src.masking import scrub_secrets
from src.models import Claim, CoverageRow, Example, Turn
from src.persistence.backup import damaged_message
from src.persistence.gate import GateConnection, disk_error

BUSY_TIMEOUT_MS = 15_000
WAL_ATTEMPTS = 20
CACHE_KIB = 65_536  # page cache per connection; random-id index inserts of big batches need it
_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(ensure_ascii=False) builds one per call


# Each migration is (name, SQL script); never edit one that has shipped, add a new one.
_M001_INITIAL = ("initial", """
    CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        mode TEXT NOT NULL,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        total_samples INTEGER DEFAULT 0,
        total_tokens INTEGER DEFAULT 0,
        config TEXT  -- JSON of the configuration, secrets removed
    );
    CREATE TABLE samples (
        id TEXT PRIMARY KEY,
        dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        content TEXT NOT NULL,        -- JSON: {"system": ..., "turns": [{"role","content"}]}
        token_length INTEGER,
        topic_keywords TEXT,          -- comma-separated
        source_file TEXT,
        split TEXT,                   -- 'train' | 'validation' | ''
        status TEXT NOT NULL DEFAULT 'accepted',  -- 'accepted' | 'rejected'
        reasons TEXT DEFAULT '',      -- comma-separated failure categories
        scores TEXT DEFAULT '{}',     -- JSON
        metadata TEXT DEFAULT '{}',   -- JSON: mode, origin, location, chunk_id, span, persona, ...
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_dataset_id ON samples(dataset_id);
    CREATE INDEX idx_split ON samples(split);
    CREATE INDEX idx_status ON samples(dataset_id, status);
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        dataset_id TEXT REFERENCES datasets(id) ON DELETE CASCADE,
        started_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        finished_at TIMESTAMP,
        status TEXT DEFAULT 'running',  -- running | done | stopped | failed
        requests INTEGER DEFAULT 0,
        input_tokens INTEGER DEFAULT 0,
        output_tokens INTEGER DEFAULT 0,
        cost_usd REAL DEFAULT 0,
        summary TEXT DEFAULT '{}'
    );
    CREATE TABLE failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT REFERENCES runs(id) ON DELETE CASCADE,
        item TEXT,       -- what failed: a chunk id, a file, a request key
        category TEXT,   -- e.g. rate_limited, unavailable, malformed_output, budget
        message TEXT,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE response_cache (
        key TEXT PRIMARY KEY,  -- hash of (provider, model, messages, parameters)
        provider TEXT,
        model TEXT,
        response TEXT NOT NULL,  -- JSON
        input_tokens INTEGER DEFAULT 0,
        output_tokens INTEGER DEFAULT 0,
        cost_usd REAL DEFAULT 0,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE chunk_coverage (
        dataset_id TEXT REFERENCES datasets(id) ON DELETE CASCADE,
        chunk_id TEXT,
        source_file TEXT,
        location TEXT,
        generated INTEGER DEFAULT 0,
        accepted INTEGER DEFAULT 0,
        rejected INTEGER DEFAULT 0,
        PRIMARY KEY (dataset_id, chunk_id)
    );
    """)

_M002_COVERAGE_SPLIT = ("coverage tokens, split report, lookup indexes", """
    ALTER TABLE chunk_coverage ADD COLUMN tokens INTEGER DEFAULT 0;
    ALTER TABLE datasets ADD COLUMN split_report TEXT DEFAULT '{}';
    CREATE INDEX idx_runs_dataset ON runs(dataset_id);
    CREATE INDEX idx_failures_run ON failures(run_id);
    CREATE INDEX idx_coverage_source ON chunk_coverage(dataset_id, source_file);
    """)

_M003_TRAIN_JOBS = ("train: uploaded files and fine-tuning jobs", """
    CREATE TABLE train_uploads (
        provider TEXT NOT NULL,
        destination TEXT NOT NULL,  -- where it went: base URL, account, bucket (no credentials)
        sha256 TEXT NOT NULL,       -- of the uploaded bytes
        file_ref TEXT NOT NULL,     -- file id, dataset name, gs:// or s3:// URI
        bytes INTEGER,
        filename TEXT,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (provider, destination, sha256)
    );
    CREATE TABLE train_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_key TEXT NOT NULL,      -- hash of dataset, target, settings and file contents
        dataset_id TEXT REFERENCES datasets(id) ON DELETE SET NULL,
        dataset_name TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,        -- catalog model
        job_model TEXT NOT NULL,    -- the base-model id sent to the job API
        settings TEXT DEFAULT '{}', -- JSON: epochs, suffix
        destination TEXT DEFAULT '',
        files TEXT DEFAULT '{}',    -- JSON: role -> file ref
        job_id TEXT DEFAULT '',     -- the provider's id; '' while the job is being created
        status TEXT DEFAULT 'creating',  -- the provider's own word
        state TEXT DEFAULT 'creating',   -- creating|queued|running|cancelling|succeeded|failed|cancelled
        fine_tuned_model TEXT,
        error TEXT,
        examples INTEGER DEFAULT 0,
        tokens INTEGER DEFAULT 0,
        cost_estimate_usd REAL,
        cost_note TEXT DEFAULT '',
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_train_jobs_key ON train_jobs(run_key);
    CREATE INDEX idx_train_jobs_name ON train_jobs(dataset_name);
    """)

_M004_SURPLUS = ("surplus samples apart from rejects", """
    UPDATE samples SET status = 'surplus' WHERE reasons = 'over_size_cap';
    """)

_M005_BATCH = ("batch mode: sessions, provider batches and their requests", """
    CREATE TABLE batch_sessions (
        dataset TEXT PRIMARY KEY,   -- dataset name: one open batch run per dataset
        config TEXT NOT NULL,       -- JSON of the run's configuration (secrets removed)
        free_prompt TEXT,
        budget_usd REAL,
        status TEXT DEFAULT 'open', -- open | done
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE batch_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        tag TEXT NOT NULL UNIQUE,   -- ours, sent as metadata / display name: finds a lost batch
        batch_id TEXT DEFAULT '',   -- the provider's id; '' while being submitted
        state TEXT DEFAULT 'submitting',  -- submitting | submitted | collected | abandoned
        provider_status TEXT DEFAULT '',
        round INTEGER DEFAULT 1,
        requests INTEGER DEFAULT 0,
        worst_usd REAL DEFAULT 0,   -- reserved in the budget until collected
        cost_usd REAL DEFAULT 0,    -- charged at batch prices when collected
        open INTEGER DEFAULT 1,     -- 0 once its batch run has finished
        error TEXT DEFAULT '',
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_batch_jobs_dataset ON batch_jobs(dataset, open);
    CREATE TABLE batch_requests (
        custom_id TEXT PRIMARY KEY, -- ^[A-Za-z0-9_-]{1,64}$, unique across every batch
        job_id INTEGER REFERENCES batch_jobs(id) ON DELETE CASCADE,
        dataset TEXT NOT NULL,
        key TEXT NOT NULL,          -- the resume-cache key of the request it answers
        attempt INTEGER DEFAULT 1,  -- 1, or 2 for the one repair or retry
        request TEXT NOT NULL,      -- JSON of the request as sent
        tokens_in INTEGER DEFAULT 0,
        worst_usd REAL DEFAULT 0,
        state TEXT DEFAULT 'submitted',  -- submitted|answered|malformed|failed|expired|cancelled|budget
        error TEXT DEFAULT '',
        input_tokens INTEGER DEFAULT 0,
        output_tokens INTEGER DEFAULT 0,
        cost_usd REAL DEFAULT 0,
        open INTEGER DEFAULT 1
    );
    CREATE INDEX idx_batch_requests_key ON batch_requests(dataset, key);
    CREATE INDEX idx_batch_requests_job ON batch_requests(job_id);
    """)

MIGRATIONS: list[tuple[str, str]] = [_M001_INITIAL, _M002_COVERAGE_SPLIT, _M003_TRAIN_JOBS,
                                     _M004_SURPLUS, _M005_BATCH]

_INSERT_SAMPLE = ("INSERT OR REPLACE INTO samples (id, dataset_id, content, token_length, "
                  "topic_keywords, source_file, split, status, reasons, scores, metadata) "
                  "VALUES (?,?,?,?,?,?,?,?,?,?,?)")
_EXAMPLE_COLUMNS = ("id, content, token_length, topic_keywords, source_file, split, reasons, "
                    "scores, metadata")
_SUMMARY_COLUMNS = "id, token_length, topic_keywords, source_file, split, status, reasons"


def example_to_row(dataset_id: str, ex: Example) -> tuple:
    content = _JSON.encode({"system": ex.system,
                            "turns": [{"role": t.role, "content": t.content} for t in ex.turns]})
    metadata: dict[str, Any] = {"mode": ex.mode, "origin": ex.origin, "location": ex.location,
                "chunk_id": ex.chunk_id, "span": list(ex.span) if ex.span else None,
                "context": ex.context, "persona": ex.persona,
                "question_type": ex.question_type, "domain_entity": ex.domain_entity,
                "notes": ex.notes}
    if ex.claims:  # claims and the judge's verdict live in metadata: read with the sample, no migration
        metadata["claims"] = [claim_to_json(c) for c in ex.claims]
    if ex.judge:
        metadata["judge"] = ex.judge
    return (ex.id, dataset_id, content, ex.token_length, ",".join(ex.topic_keywords),
            ex.source_file, ex.split, sample_status(ex), ",".join(ex.reasons),
            _JSON.encode(ex.scores), _JSON.encode(metadata))


def sample_status(ex: Example) -> str:
    """accepted | rejected | surplus (passed every check, beyond the size asked for)."""
    return "surplus" if ex.surplus else "rejected" if ex.reasons else "accepted"


def claim_to_json(claim: Claim) -> dict:
    """A claim as stored: answer offsets, status, evidence spans in the context, what is missing."""
    data: dict[str, Any] = {"at": [claim.start, claim.end], "status": claim.status,
                            "evidence": [list(span) for span in claim.evidence]}
    if claim.missing:
        data["missing"] = claim.missing
    return data


def claim_from_json(data: dict) -> Claim:
    return Claim(data["at"][0], data["at"][1], data["status"],
                 [(span[0], span[1]) for span in data.get("evidence") or ()], data.get("missing", []))


def _load_json(text: str) -> Any:
    """json.loads for the JSON we write ourselves (orjson: several times faster on big exports)."""
    return orjson.loads(text)


def example_from_row(row: dict) -> Example:
    content = _load_json(row["content"])
    meta = _load_json(row.get("metadata") or "{}")
    span = meta.get("span")
    return Example(
        id=row["id"], system=content.get("system"),
        turns=[Turn(t["role"], t["content"]) for t in content["turns"]],
        mode=meta.get("mode", ""), origin=meta.get("origin", ""),
        source_file=row.get("source_file") or "", location=meta.get("location", ""),
        chunk_id=meta.get("chunk_id", ""), span=tuple(span) if span else None,
        context=meta.get("context", ""),
        topic_keywords=[k for k in (row.get("topic_keywords") or "").split(",") if k],
        persona=meta.get("persona", ""), question_type=meta.get("question_type", ""),
        domain_entity=meta.get("domain_entity", ""),
        scores=_load_json(row.get("scores") or "{}"),
        reasons=[r for r in (row.get("reasons") or "").split(",") if r],
        notes=meta.get("notes", []), split=row.get("split") or "",
        token_length=row.get("token_length") or 0,
        claims=[claim_from_json(c) for c in meta.get("claims", ())], judge=meta.get("judge") or {})


def _dict_factory(cursor: sqlite3.Cursor, row: tuple) -> dict:
    return {col[0]: row[i] for i, col in enumerate(cursor.description)}


class Database:
    """One connection to the builder's database; use as a context manager, one per thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                        isolation_level=None, check_same_thread=False,
                                        factory=GateConnection)
            self.conn.path = self.path
            self.conn.row_factory = _dict_factory
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._set_wal()
            # NORMAL is safe in WAL mode: a crash of the program loses nothing committed; only a
            # power cut can lose the last commits, never corrupt the file.
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.migrate()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StorageError(self._open_error(exc)) from None

    def _set_wal(self) -> None:
        """Switch to WAL; that switch can report 'locked' without waiting, so retry a little."""
        for attempt in range(WAL_ATTEMPTS):
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _open_error(self, exc: Exception) -> str:
        text = str(exc)
        full = disk_error(self.path, exc) if isinstance(exc, sqlite3.Error) else None
        if full:
            return str(full)
        if "locked" in text or "busy" in text:
            return (f"The database {self.path} is busy: another run has held it for more than "
                    f"{BUSY_TIMEOUT_MS // 1000} s. Wait for that run to finish, then try again.")
        if isinstance(exc, OSError) or "unable to open" in text:
            return (f"The database {self.path} cannot be opened ({text}). Check that its folder "
                    "exists and is writable, or move it with DATASET_BUILDER_HOME.")
        return damaged_message(self.path, text)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:  # SQLite may have rolled back already (disk full)
                self.conn.execute("ROLLBACK")
            raise

    def migrate(self) -> None:
        self.conn.execute("CREATE TABLE IF NOT EXISTS migrations "
                          "(number INTEGER PRIMARY KEY, name TEXT, applied_at TIMESTAMP "
                          "DEFAULT CURRENT_TIMESTAMP)")
        for number, (name, script) in enumerate(MIGRATIONS, start=1):
            if self._migrated(number):
                continue
            try:
                self.conn.executescript(f"BEGIN IMMEDIATE; {script}; INSERT INTO migrations "
                                        f"(number, name) VALUES ({number}, '{name}'); COMMIT;")
            except sqlite3.OperationalError:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if not self._migrated(number):  # not a concurrent opener that won the race
                    raise

    def _migrated(self, number: int) -> bool:
        return bool(self.conn.execute("SELECT 1 FROM migrations WHERE number = ?",
                                      (number,)).fetchone())

    # ------------------------------------------------------------ datasets

    def upsert_dataset(self, name: str, provider: str, model: str, mode: str,
                       config: dict[str, Any]) -> str:
        """The id of dataset `name`, created if new; target and config (secrets removed) updated."""
        config_json = json.dumps(scrub_secrets(config), ensure_ascii=False, default=str)
        dataset_id = f"ds_{int(time.time() * 1000):x}{uuid.uuid4().hex[:6]}"
        # One atomic statement, so two runs starting at once cannot both insert `name`.
        rows = self.conn.execute(
            "INSERT INTO datasets (id, name, provider, model, mode, config) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "provider=excluded.provider, model=excluded.model, mode=excluded.mode, "
            "config=excluded.config, updated_at=CURRENT_TIMESTAMP RETURNING id",
            (dataset_id, name, provider, model, mode, config_json)).fetchall()
        return rows[0]["id"]

    def get_dataset(self, name: str) -> dict:
        row = self.conn.execute("SELECT * FROM datasets WHERE name = ? OR id = ?",
                                (name, name)).fetchone()
        if not row:
            raise DatasetNotFound(f"No dataset named {name!r}. "
                                  "Run `python -m src.main list` to see the datasets you have.")
        return row

    def list_datasets(self) -> list[dict]:
        return self.conn.execute("SELECT * FROM datasets ORDER BY created_at DESC, name").fetchall()

    def refresh_totals(self, dataset_id: str) -> None:
        self.conn.execute(
            "UPDATE datasets SET total_samples = (SELECT COUNT(*) FROM samples WHERE dataset_id=? "
            "AND status='accepted'), total_tokens = (SELECT COALESCE(SUM(token_length),0) FROM "
            "samples WHERE dataset_id=? AND status='accepted'), updated_at=CURRENT_TIMESTAMP "
            "WHERE id=?", (dataset_id, dataset_id, dataset_id))

    # ------------------------------------------------------------ samples

    def save_examples(self, dataset_id: str, examples: Iterable[Example]) -> int:
        """Insert or replace a batch of examples in one transaction; returns how many."""
        rows = [example_to_row(dataset_id, ex) for ex in examples]
        with self.transaction() as conn:
            conn.executemany(_INSERT_SAMPLE, rows)
        return len(rows)

    def load_examples(self, dataset_id: str, status: str | None = "accepted") -> list[Example]:
        """Examples of a dataset in insertion order; status None means accepted and rejected."""
        sql = f"SELECT {_EXAMPLE_COLUMNS} FROM samples WHERE dataset_id = ?"
        params: tuple = (dataset_id,)
        if status:
            sql += " AND status = ?"
            params += (status,)
        return [example_from_row(r) for r in self._rows(sql + " ORDER BY rowid", params)]

    def _rows(self, sql: str, params: tuple) -> Iterator[dict]:
        """Dict rows for big reads: column names looked up once, not once per row."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        cursor.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return (dict(zip(names, row)) for row in cursor)

    def set_splits(self, assignments: dict[str, str]) -> None:
        with self.transaction() as conn:
            conn.executemany("UPDATE samples SET split = ? WHERE id = ?",
                             [(split, sid) for sid, split in assignments.items()])

    def delete_examples(self, dataset_id: str, status: str | None = None) -> int:
        """Delete a dataset's samples (only `status` ones if given); returns how many."""
        sql, params = "DELETE FROM samples WHERE dataset_id = ?", [dataset_id]
        if status:
            sql, params = sql + " AND status = ?", [*params, status]
        with self.transaction() as conn:
            return conn.execute(sql, params).rowcount

    def replace_examples(self, dataset_id: str, examples: Iterable[Example]) -> int:
        """Swap all of a dataset's samples for `examples` in one transaction (a re-run's result)."""
        rows = [example_to_row(dataset_id, ex) for ex in examples]
        with self.transaction() as conn:
            conn.execute("DELETE FROM samples WHERE dataset_id = ?", (dataset_id,))
            conn.executemany(_INSERT_SAMPLE, rows)
        return len(rows)

    def sample_rows(self, dataset_id: str, columns: str = _SUMMARY_COLUMNS) -> list[dict]:
        """Light rows (no content) of every sample of a dataset, for statistics."""
        return list(self._rows(f"SELECT {columns} FROM samples WHERE dataset_id = ? "
                               "ORDER BY rowid", (dataset_id,)))

    def score_means(self, dataset_id: str, status: str = "accepted") -> dict[str, float]:
        """Mean of every numeric quality score over a dataset's samples of one status."""
        rows = self.conn.execute(
            "SELECT s.key AS name, AVG(s.value) AS mean FROM samples, json_each(samples.scores) s "
            "WHERE samples.dataset_id = ? AND samples.status = ? AND s.type IN ('integer', 'real') "
            "GROUP BY s.key ORDER BY s.key", (dataset_id, status)).fetchall()
        return {r["name"]: round(r["mean"], 3) for r in rows}

    def set_split_report(self, dataset_id: str, report: dict) -> None:
        """Keep what the splitter reported (distribution, notes, leakage moved) with the dataset."""
        self.conn.execute("UPDATE datasets SET split_report = ? WHERE id = ?",
                          (json.dumps(report, ensure_ascii=False, default=str), dataset_id))

    def delete_dataset(self, dataset_id: str) -> None:
        """Remove a dataset with its samples, runs, failures and coverage."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))

    # ------------------------------------------------------------ coverage

    def add_coverage(self, dataset_id: str, rows: Iterable[CoverageRow | dict]) -> int:
        """Record chunks with their current counts (a chunk recorded again gets the new counts,
        so a resumed run can pass totals recounted from every stored sample)."""
        items = [r if isinstance(r, CoverageRow) else CoverageRow(**r) for r in rows]
        data = [(dataset_id, r.chunk_id, r.source_file, r.location, r.generated, r.accepted,
                 r.rejected, r.tokens) for r in items]
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO chunk_coverage (dataset_id, chunk_id, source_file, location, "
                "generated, accepted, rejected, tokens) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT(dataset_id, chunk_id) DO UPDATE SET "
                "source_file = excluded.source_file, "
                "location = excluded.location, generated = excluded.generated, "
                "accepted = excluded.accepted, rejected = excluded.rejected, "
                "tokens = MAX(tokens, excluded.tokens)", data)
        return len(data)

    def coverage(self, dataset_id: str) -> list[CoverageRow]:
        """Every recorded chunk of a dataset, by source file then chunk."""
        rows = self.conn.execute("SELECT chunk_id, source_file, location, generated, accepted, "
                                 "rejected, tokens FROM chunk_coverage WHERE dataset_id = ? "
                                 "ORDER BY source_file, rowid", (dataset_id,)).fetchall()
        return [CoverageRow(r["chunk_id"] or "", r["source_file"] or "", r["location"] or "",
                            r["generated"] or 0, r["accepted"] or 0, r["rejected"] or 0,
                            r["tokens"] or 0) for r in rows]

    # ------------------------------------------------------------ runs and failures

    def start_run(self, run_id: str, dataset_id: str) -> None:
        self.conn.execute("INSERT INTO runs (id, dataset_id) VALUES (?, ?)", (run_id, dataset_id))

    def mark_stale_runs(self, dataset_id: str) -> int:
        """Mark `interrupted` the runs of a dataset still `running` when a new one starts (call it
        holding the dataset's lock: their process is gone). Returns how many."""
        return self.conn.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = CURRENT_TIMESTAMP "
            "WHERE dataset_id = ? AND status = 'running'", (dataset_id,)).rowcount

    def unsplit_count(self, dataset_id: str) -> int:
        """Accepted samples with no train/validation split (a run ended before its split)."""
        return self.conn.execute("SELECT COUNT(*) AS n FROM samples WHERE dataset_id = ? AND "
                                 "status = 'accepted' AND COALESCE(split, '') = ''",
                                 (dataset_id,)).fetchone()["n"]

    def last_run(self, dataset_id: str) -> dict | None:
        """The latest run of a dataset (its status says whether it finished), or None."""
        return self.conn.execute("SELECT * FROM runs WHERE dataset_id = ? ORDER BY started_at "
                                 "DESC, rowid DESC LIMIT 1", (dataset_id,)).fetchone()

    def record_run_totals(self, run_id: str, requests: int, input_tokens: int,
                          output_tokens: int, cost_usd: float) -> None:
        """What a run has sent and spent so far (it may still be running: stats and the report
        written by its export include it)."""
        self.conn.execute("UPDATE runs SET requests=?, input_tokens=?, output_tokens=?, "
                          "cost_usd=? WHERE id=?",
                          (requests, input_tokens, output_tokens, cost_usd, run_id))

    def finish_run(self, run_id: str, status: str, requests: int, input_tokens: int,
                   output_tokens: int, cost_usd: float, summary: dict) -> None:
        self.conn.execute("UPDATE runs SET finished_at=CURRENT_TIMESTAMP, status=?, requests=?, "
                          "input_tokens=?, output_tokens=?, cost_usd=?, summary=? WHERE id=?",
                          (status, requests, input_tokens, output_tokens, cost_usd,
                           json.dumps(scrub_secrets(summary), default=str), run_id))

    def run_totals(self, dataset_id: str) -> dict:
        """Runs, requests, tokens and cost summed over every run of a dataset."""
        return self.conn.execute(
            "SELECT COUNT(*) AS runs, COALESCE(SUM(requests),0) AS requests, "
            "COALESCE(SUM(input_tokens),0) AS input_tokens, "
            "COALESCE(SUM(output_tokens),0) AS output_tokens, "
            "COALESCE(SUM(cost_usd),0.0) AS cost_usd FROM runs WHERE dataset_id = ?",
            (dataset_id,)).fetchone()

    def runs(self, dataset_id: str) -> list[dict]:
        """Every run of a dataset, oldest first: when, status, requests and cost."""
        return self.conn.execute(
            "SELECT id, started_at, finished_at, status, requests, input_tokens, output_tokens, "
            "cost_usd FROM runs WHERE dataset_id = ? ORDER BY started_at, rowid",
            (dataset_id,)).fetchall()

    def record_failure(self, run_id: str, item: str, category: str, message: str) -> None:
        self.conn.execute("INSERT INTO failures (run_id, item, category, message) "
                          "VALUES (?, ?, ?, ?)", (run_id, item, category, message))

    # ------------------------------------------------------------ paid-response cache

    def cache_get(self, key: str) -> dict | None:
        """A stored response (with its usage) for this request key, or None."""
        row = self.conn.execute("SELECT * FROM response_cache WHERE key = ?", (key,)).fetchone()
        if not row:
            return None
        row["response"] = json.loads(row["response"])
        return row

    def cache_put(self, key: str, provider: str, model: str, response: Any,
                  input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """Store a paid response as soon as it arrives (autocommit: durable at once)."""
        self.conn.execute("INSERT OR REPLACE INTO response_cache (key, provider, model, response, "
                          "input_tokens, output_tokens, cost_usd) VALUES (?,?,?,?,?,?,?)",
                          (key, provider, model, json.dumps(response, ensure_ascii=False),
                           input_tokens, output_tokens, cost_usd))

