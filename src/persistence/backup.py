"""Backups of the database with SQLite's online backup API: rotation, restore, integrity check.

A backup is a consistent copy even while another connection writes (the backup API copies pages
under SQLite's own locking), written to a temporary name and renamed, so a half-written backup never
looks like a real one. Names carry a timestamp:
memory/backups/dataset_builder-20250101-120000-000001.db.
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from src.config import home
from src.errors import StorageError
from src.persistence.locks import database_lock

BACKUP_TIMEOUT_S = 30.0
_STAMP = re.compile(r"-(\d{8}-\d{6}-\d{6})\.db$")
_MAX_PROBLEMS_SHOWN = 3


def backups_dir() -> Path:
    """memory/backups/ under the builder's home."""
    return home() / "memory" / "backups"


def list_backups(folder: Path | None = None) -> list[Path]:
    """Backups, newest first (only files named like our backups)."""
    folder = folder or backups_dir()
    if not folder.is_dir():
        return []
    stamped = [(m.group(1), p) for p in folder.iterdir()
               if p.is_file() and (m := _STAMP.search(p.name))]
    return [p for _, p in sorted(stamped, reverse=True)]


def backup_time(path: Path) -> str:
    """When a backup was taken, from its name: '2025-01-01 12:00:00'."""
    match = _STAMP.search(path.name)
    if not match:
        return "?"
    return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S-%f").strftime("%Y-%m-%d %H:%M:%S")


def _copy(source: Path, target: Path) -> None:
    """Online-backup `source` into `target` through a temporary file in the same folder."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with closing(sqlite3.connect(source, timeout=BACKUP_TIMEOUT_S)) as src, \
                closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)
        os.replace(tmp, target)
    except (sqlite3.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"Could not copy the database {source} to {target} ({exc}). "
                           "Check free disk space and that memory/ is writable.") from None


def backup_database(db_path: Path, keep: int, folder: Path | None = None) -> Path | None:
    """Back up the database, keeping the newest `keep` backups; None when keep is 0 or no DB."""
    db_path = Path(db_path)
    if keep <= 0 or not db_path.exists() or db_path.stat().st_size == 0:
        return None
    folder = folder or backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{db_path.stem}-{stamp}.db"
    _copy(db_path, target)
    rotate(keep, folder)
    return target


def rotate(keep: int, folder: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` backups; returns the deleted paths."""
    old = list_backups(folder)[max(keep, 0):]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def restore(backup_path: Path, db_path: Path) -> Path | None:
    """Replace the database by a backup; the current database (if readable) is backed up first.

    Returns the path of that safety backup, or None when the current file was absent or damaged.
    Refused (UsageError) while a generate run or an export holds the database: it would go on
    writing into the replaced file. The old -wal/-shm files are removed with the old database.
    """
    with database_lock("restore"):
        return _restore(Path(backup_path), Path(db_path))


def _restore(backup_path: Path, db_path: Path) -> Path | None:
    if not backup_path.is_file():
        raise StorageError(f"No backup file {backup_path}. "
                           "Run `python -m src.main restore` to list the backups there are.")
    problem = check_integrity(backup_path, full=True)
    if problem:
        raise StorageError(f"The backup {backup_path} is damaged too; choose an older one. "
                           f"({problem})")
    safety = None
    if db_path.exists() and check_integrity(db_path) is None:
        safety = backup_database(db_path, keep=len(list_backups()) + 1)
    tmp = db_path.with_name(f".{db_path.name}.restore")
    _copy(backup_path, tmp)
    for suffix in ("-wal", "-shm"):  # a stale WAL would be replayed over the restored pages
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, db_path)
    return safety


def check_integrity(db_path: Path, full: bool = False) -> str | None:
    """None when the database is fine or absent; else a message naming it and the latest backup."""
    db_path = Path(db_path)
    if not db_path.exists():
        return None
    pragma = "integrity_check" if full else "quick_check"
    try:
        uri = db_path.resolve().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=BACKUP_TIMEOUT_S)) as conn:
            rows = conn.execute(f"PRAGMA {pragma}({_MAX_PROBLEMS_SHOWN})").fetchall()
    except sqlite3.DatabaseError as exc:
        return damaged_message(db_path, str(exc))
    result = "; ".join(str(r[0]) for r in rows)
    return None if result == "ok" else damaged_message(db_path, result)


def damaged_message(db_path: Path, detail: str) -> str:
    """What to tell the user when the database file cannot be used, with the latest backup."""
    backups = list_backups()
    head = f"The database {db_path} is damaged or not a database ({detail})."
    if backups:
        latest = backups[0]
        return (f"{head} Restore the latest backup {latest} (taken {backup_time(latest)}) with "
                "`python -m src.main restore`, or move the file away to start with an empty one.")
    return (f"{head} There is no backup in {backups_dir()}: move the file away (rename it) to "
            "start with an empty database.")


def check_and_backup(db_path: Path, keep: int) -> Path | None:
    """Before a run that changes data: refuse a damaged database, then back it up (rotated)."""
    problem = check_integrity(db_path)
    if problem:
        raise StorageError(problem)
    return backup_database(db_path, keep)
