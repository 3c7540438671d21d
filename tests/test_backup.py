"""Backups with the online backup API, rotation, restore, and damaged databases."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from src.config import db_path
from src.errors import StorageError
from src.main import main
from src.models import Example, Turn
from src.persistence import backup
from src.persistence.sqlite_client import Database


def fill(path: Path, name: str, n: int) -> str:
    with Database(path) as db:
        ds = db.upsert_dataset(name, "openai", "gpt-4o", "create", {})
        db.save_examples(ds, [Example(turns=[Turn("user", f"q{i}"), Turn("assistant", "a")])
                              for i in range(n)])
        return ds


def count(path: Path, name: str) -> int:
    with Database(path) as db:
        return len(db.load_examples(db.get_dataset(name)["id"]))


def damage(path: Path, offset: int, length: int = 4096) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xde\xad\xbe\xef" * (length // 4))


def test_backup_is_a_consistent_copy_while_the_database_is_open() -> None:
    path = db_path()
    fill(path, "d", 30)
    with Database(path):  # an open connection with a WAL does not matter
        made = backup.backup_database(path, keep=3)
    assert made is not None and made.parent == backup.backups_dir()
    assert count(made, "d") == 30
    assert backup.check_integrity(made, full=True) is None


def test_backups_are_rotated_newest_first() -> None:
    path = db_path()
    fill(path, "d", 1)
    made = [backup.backup_database(path, keep=2) for _ in range(4)]
    assert backup.list_backups() == [made[3], made[2]]
    assert not made[0].exists() and not made[1].exists()  # type: ignore[union-attr]


def test_no_backup_when_keep_is_zero_or_there_is_no_database() -> None:
    assert backup.backup_database(db_path(), keep=5) is None
    fill(db_path(), "d", 1)
    assert backup.backup_database(db_path(), keep=0) is None
    assert backup.list_backups() == []


def test_restore_brings_back_the_old_data_and_keeps_the_current_one() -> None:
    path = db_path()
    fill(path, "d", 5)
    old = backup.backup_database(path, keep=5)
    fill(path, "later", 7)
    safety = backup.restore(old, path)  # type: ignore[arg-type]
    assert count(path, "d") == 5
    with Database(path) as db:
        assert [r["name"] for r in db.list_datasets()] == ["d"]
    assert safety is not None and count(safety, "later") == 7


def test_restore_command_with_yes_restores_the_latest(capsys: pytest.CaptureFixture) -> None:
    path = db_path()
    fill(path, "d", 2)
    backup.backup_database(path, keep=5)
    fill(path, "d", 4)  # new ids: 6 samples now
    assert main(["restore", "--yes"]) == 0
    assert count(path, "d") == 2
    assert "dataset_builder-" in capsys.readouterr().out


def test_restore_command_refuses_without_yes_when_not_interactive(
        capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(db_path(), "d", 2)
    backup.backup_database(db_path(), keep=5)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    assert main(["restore"]) == 2
    assert "--yes" in capsys.readouterr().err


def test_overwritten_header_gives_a_message_naming_file_and_latest_backup() -> None:
    path = db_path()
    fill(path, "d", 50)
    latest = backup.backup_database(path, keep=5)
    Database(path).close()  # checkpoint: everything is in the main file now
    damage(path, 0, 100)
    message = backup.check_integrity(path)
    assert message is not None
    assert str(path) in message and str(latest) in message and "restore" in message
    with pytest.raises(StorageError) as caught:
        Database(path)
    assert str(latest) in str(caught.value)
    with pytest.raises(StorageError):
        backup.check_and_backup(path, keep=5)


def test_overwritten_pages_are_found_by_the_integrity_check() -> None:
    path = db_path()
    fill(path, "d", 2000)
    Database(path).close()
    page_size = 4096
    damage(path, page_size * 3, page_size * 4)
    message = backup.check_integrity(path, full=True)
    assert message is not None and "damaged" in message
    assert "no backup" in message.lower()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello, I am a text file and not SQLite at all" * 20)
    message = backup.check_integrity(path)
    assert message is not None and str(path) in message and "not a database" in message


def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    bad = backup.backups_dir() / "dataset_builder-20250101-000000-000000.db"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"garbage" * 1000)
    with pytest.raises(StorageError, match="damaged too"):
        backup.restore(bad, db_path())


def test_restore_over_a_damaged_database() -> None:
    path = db_path()
    fill(path, "d", 3)
    good = backup.backup_database(path, keep=5)
    Database(path).close()
    damage(path, 0, 100)
    assert backup.restore(good, path) is None  # type: ignore[arg-type]
    assert count(path, "d") == 3
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
