"""The SQLite store: schema and migrations, round trips, secrets scrubbed, concurrent writers."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from src.config import Config, db_path
from src.errors import DatasetNotFound
from src.masking import scrub_secrets
from src.models import CoverageRow, Example, Turn
from src.persistence.sqlite_client import MIGRATIONS, Database

ROOT = Path(__file__).resolve().parent.parent


def make_example(i: int, source: str = "a.pdf", **kw: object) -> Example:
    ex = Example(turns=[Turn("user", f"Question {i}?"), Turn("assistant", f"Answer {i}.")],
                 source_file=source, topic_keywords=["fees", "visa"], token_length=10 + i,
                 mode="identify", origin="extracted", location=f"page {i}",
                 chunk_id=f"{source}#{i}",
                 span=(i, i + 5), context="ctx", persona="p", question_type="factual",
                 scores={"overall": 0.9}, notes=["fine"], system="Be brief.",
                 domain_entity="Sharda University")
    for key, value in kw.items():
        setattr(ex, key, value)
    return ex


def table_names(db: Database) -> set[str]:
    return {r["name"] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_empty_database_gets_every_migration_and_pragmas() -> None:
    with Database(db_path()) as db:
        assert {"datasets", "samples", "runs", "failures", "response_cache",
                "chunk_coverage", "migrations"} <= table_names(db)
        numbers = [r["number"] for r in db.conn.execute("SELECT number FROM migrations")]
        assert numbers == list(range(1, len(MIGRATIONS) + 1))
        assert db.conn.execute("PRAGMA journal_mode").fetchone()["journal_mode"] == "wal"
        assert db.conn.execute("PRAGMA foreign_keys").fetchone()["foreign_keys"] == 1
        assert db.conn.execute("PRAGMA busy_timeout").fetchone()["timeout"] >= 1000


def test_database_at_migration_1_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE migrations (number INTEGER PRIMARY KEY, name TEXT, "
                       "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);" + MIGRATIONS[0][1]
                       + "; INSERT INTO migrations (number, name) VALUES (1, 'initial');"
                       "INSERT INTO datasets (id, name, provider, model, mode) "
                       "VALUES ('ds_old', 'old', 'openai', 'gpt-4o-mini', 'create');"
                       "INSERT INTO chunk_coverage (dataset_id, chunk_id, source_file, generated) "
                       "VALUES ('ds_old', 'a#0', 'a.pdf', 2);")
    conn.close()
    with Database(path) as db:
        assert [r["number"] for r in db.conn.execute("SELECT number FROM migrations")] == \
            list(range(1, len(MIGRATIONS) + 1))
        assert db.get_dataset("old")["split_report"] == "{}"
        assert db.coverage("ds_old") == [CoverageRow("a#0", "a.pdf", "", 2, 0, 0, 0)]
    with Database(path) as db:  # opening again applies nothing twice
        assert db.conn.execute("SELECT COUNT(*) AS n FROM migrations").fetchone()["n"] == \
            len(MIGRATIONS)


def test_examples_round_trip_with_every_field() -> None:
    originals = [make_example(i, split="train") for i in range(3)]
    originals.append(make_example(9, reasons=["low_extractive", "duplicate"]))
    with Database(db_path()) as db:
        ds = db.upsert_dataset("d", "mistral", "open-mistral-7b", "identify", {})
        assert db.save_examples(ds, originals) == 4
        assert db.load_examples(ds) == originals[:3]
        assert db.load_examples(ds, "rejected") == originals[3:]
        assert db.load_examples(ds, None) == originals
        db.refresh_totals(ds)
        assert db.get_dataset("d")["total_samples"] == 3
        assert db.get_dataset("d")["total_tokens"] == 10 + 11 + 12


def test_upsert_keeps_one_id_per_name_and_unknown_names_say_what_to_do() -> None:
    with Database(db_path()) as db:
        first = db.upsert_dataset("d", "openai", "gpt-4o", "create", {"a": 1})
        again = db.upsert_dataset("d", "mistral", "open-mistral-7b", "hybrid", {"a": 2})
        other = db.upsert_dataset("e", "openai", "gpt-4o", "create", {})
        assert first == again != other
        row = db.get_dataset(first)
        assert (row["provider"], row["mode"], json.loads(row["config"])) == \
            ("mistral", "hybrid", {"a": 2})
        with pytest.raises(DatasetNotFound, match="src.main list"):
            db.get_dataset("nope")


def test_config_stored_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-abcdef123456")
    config = Config().to_dict()
    config["system"]["base_urls"] = {"openai": "https://x/?key=sk-live-abcdef123456"}
    config["openai_api_key"] = "whatever"
    config["extra"] = {"hf_token": "hf_abc", "note": ["sk-live-abcdef123456"]}
    with Database(db_path()) as db:
        ds = db.upsert_dataset("d", "openai", "gpt-4o", "create", config)
        stored = db.get_dataset(ds)["config"]
    assert "sk-live-abcdef123456" not in stored and "hf_abc" not in stored
    data = json.loads(stored)
    assert "openai_api_key" not in data and "hf_token" not in data["extra"]
    assert data["system"]["base_urls"]["openai"] == "https://x/?key=***"
    assert data["split"] == config["split"]  # ordinary settings are kept


def test_scrub_secrets_leaves_lookalike_names_alone() -> None:
    data = {"chunk_tokens": 900, "keywords": {"visa": 1.0}, "api_key": "x", "AUTH_TOKEN": "y"}
    assert scrub_secrets(data, []) == {"chunk_tokens": 900, "keywords": {"visa": 1.0}}


def test_replace_and_delete_examples() -> None:
    with Database(db_path()) as db:
        ds = db.upsert_dataset("d", "openai", "gpt-4o", "create", {})
        db.save_examples(ds, [make_example(i) for i in range(5)])
        db.save_examples(ds, [make_example(7, reasons=["duplicate"])])
        assert db.replace_examples(ds, [make_example(1)]) == 1
        assert [e.question for e in db.load_examples(ds, None)] == ["Question 1?"]
        assert db.delete_examples(ds) == 1
        assert db.load_examples(ds, None) == []


def test_coverage_rows_are_recorded_then_updated_and_run_totals_sum_runs() -> None:
    with Database(db_path()) as db:
        ds = db.upsert_dataset("d", "openai", "gpt-4o", "create", {})
        db.add_coverage(ds, [CoverageRow("a#0", "a.pdf", "page 1", tokens=50),
                             CoverageRow("a#1", "a.pdf", "page 2")])
        for _ in range(2):  # a resumed run passes the recounted totals again: no double count
            db.add_coverage(ds, [{"chunk_id": "a#0", "source_file": "a.pdf",
                                  "location": "page 1", "generated": 3, "accepted": 2,
                                  "rejected": 1}])
        assert db.coverage(ds) == [CoverageRow("a#0", "a.pdf", "page 1", 3, 2, 1, 50),
                                   CoverageRow("a#1", "a.pdf", "page 2")]
        for run, cost in (("r1", 0.25), ("r2", 0.5)):
            db.start_run(run, ds)
            db.finish_run(run, "done", 10, 1000, 200, cost, {})
        totals = db.run_totals(ds)
        assert (totals["runs"], totals["requests"], totals["input_tokens"],
                totals["cost_usd"]) == (2, 20, 2000, 0.75)


def test_deleting_a_dataset_cascades() -> None:
    with Database(db_path()) as db:
        ds = db.upsert_dataset("d", "openai", "gpt-4o", "create", {})
        db.save_examples(ds, [make_example(1)])
        db.add_coverage(ds, [CoverageRow("a#0", "a.pdf")])
        db.start_run("r1", ds)
        db.delete_dataset(ds)
        for table in ("samples", "chunk_coverage", "runs"):
            assert db.conn.execute(f"SELECT COUNT(*) AS n FROM {table}").fetchone()["n"] == 0


WRITER = textwrap.dedent("""
    import sys
    from src.models import Example, Turn
    from src.persistence.sqlite_client import Database
    tag = sys.argv[2]
    with Database(sys.argv[1]) as db:
        ds = db.upsert_dataset("shared", "openai", "gpt-4o", "create", {})
        for batch in range(20):
            db.save_examples(ds, [Example(turns=[Turn("user", f"{tag} {batch} {i}"),
                                                 Turn("assistant", "a")], id=f"{tag}-{batch}-{i}")
                                  for i in range(100)])
            db.refresh_totals(ds)
""")


def test_two_processes_writing_at_once_do_not_corrupt_the_database(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for tag in ("p1", "p2")]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with Database(path) as db:
        assert len(db.list_datasets()) == 1
        assert db.get_dataset("shared")["total_samples"] == 4000
        assert db.conn.execute("PRAGMA integrity_check").fetchone()["integrity_check"] == "ok"


def test_every_text_is_made_storable_at_the_gate(tmp_path: Path, monkeypatch) -> None:
    """A lone surrogate (an undecodable file name, a split emoji) cannot fail a write, and a key
    of the environment or a URL's password is masked in whatever is stored."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-stored-nowhere-123456")
    monkeypatch.setenv("LLAMA_BASE_URL", "http://me:pw-in-url-99@10.0.0.5/v1")
    ex = make_example(1, source="caf\udce9_faq.md", turns=[
        Turn("user", "Key?"), Turn("assistant", "It is sk-stored-nowhere-123456 \ud83d")])
    with Database(tmp_path / "g.db") as db:
        ds = db.upsert_dataset("gate", "openai", "gpt-4o-mini", "create",
                               {"system": {"base_urls": {"llama": "http://x:pw-in-url-99@h/v1"}}})
        db.save_examples(ds, [ex])
        db.start_run("run1", ds)
        db.record_failure("run1", "caf\udce9", "unavailable",
                          "Cannot reach llama at http://me:pw-in-url-99@10.0.0.5/v1")
        [back] = db.load_examples(ds)
        stored = json.dumps([dict(r) for t in ("samples", "datasets", "failures")
                             for r in db.conn.execute(f"SELECT * FROM {t}")])
    assert back.source_file == "caf\ufffd_faq.md" and back.answer == "It is *** \ufffd"
    assert "sk-stored-nowhere" not in stored and "pw-in-url-99" not in stored
    assert "http://***@10.0.0.5/v1" in stored


def test_surplus_samples_are_stored_apart_from_rejects(tmp_path: Path) -> None:
    with Database(tmp_path / "s.db") as db:
        ds = db.upsert_dataset("s", "openai", "gpt-4o-mini", "create", {})
        db.save_examples(ds, [make_example(1), make_example(2, reasons=["over_size_cap"]),
                              make_example(3, reasons=["low_extractive"])])
        statuses = [r["status"] for r in db.conn.execute(
            "SELECT status FROM samples ORDER BY rowid")]
        assert statuses == ["accepted", "surplus", "rejected"]
        assert [e.surplus for e in db.load_examples(ds, status=None)] == [False, True, False]
        assert len(db.load_examples(ds)) == 1
