"""Who may touch a dataset, and the database, right now: OS file locks in memory/locks/.

- `dataset_lock(name, purpose)`: one generate or export of a dataset at a time. It also holds the
  database lock shared, so `restore` cannot swap the database out from under it.
- `database_lock(purpose)`: the database lock held exclusively (restore), refused while any run
  or export holds it shared.

The locks are `flock`s: the kernel drops them when the process dies, so a killed run never leaves
a dataset locked. Lock files are opened without following links and never written; who holds a
lock is kept beside it in `<lock>.json` (written atomically) for the messages. Within one process a
lock is re-entrant: generate's final export runs under generate's own lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from src.config import db_path
from src.errors import StorageError, UsageError
from src.persistence.files import write_json_atomic

DATABASE = "_database"  # the lock file shared by every run, taken exclusively by restore
WAIT_POLL_S = 0.1
_HELD: dict[str, tuple[int, int, int]] = {}  # lock key -> (fd, mode, depth) held by this process
REENTRANT = ("export", "push")  # what may run inside a holder of the same process (generate's export)


def locks_dir() -> Path:
    """memory/locks/ beside the database."""
    return db_path().parent / "locks"


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StorageError(f"Cannot open the lock file {path} ({exc.strerror or exc}). If it is a "
                           "symbolic link, delete it: lock files are never links.") from None


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def holder(key: str) -> dict:
    """What the info file says about the holder of lock `key` ({} when unknown)."""
    try:
        data = json.loads((locks_dir() / f"{key}.lock.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(info: dict) -> str:
    """'generate (pid 42, since 2026-12-05 10:00:00)' from a holder record, or 'another process'."""
    if not info:
        return "another process"
    return f"{info.get('purpose', '?')} (pid {info.get('pid', '?')}, since {info.get('since', '?')})"


@contextmanager
def _lock(key: str, mode: int, purpose: str, busy: str, wait_s: float = 0.0) -> Iterator[None]:
    if key in _HELD:  # re-entrant within one process, never upgraded from shared to exclusive
        fd, held_mode, depth = _HELD[key]
        if mode == fcntl.LOCK_EX and (held_mode != fcntl.LOCK_EX or purpose not in REENTRANT):
            raise UsageError(busy.format(holder=describe(holder(key)) if held_mode == mode
                                         else f"this process ({purpose})"))
        _HELD[key] = (fd, held_mode, depth + 1)
        try:
            yield
        finally:
            _HELD[key] = (fd, held_mode, _HELD[key][2] - 1)
        return
    path = locks_dir() / f"{key}.lock"
    fd = _open(path)
    deadline = time.monotonic() + wait_s
    while not _try_flock(fd, mode):
        info = holder(key)  # {} for an instant after the holder locked, before it wrote this
        if time.monotonic() >= deadline or info.get("purpose") not in ("export", "push", None):
            os.close(fd)
            raise UsageError(busy.format(holder=describe(info)))
        time.sleep(WAIT_POLL_S)
    _HELD[key] = (fd, mode, 1)
    info_path = path.with_name(f"{key}.lock.json")
    if mode == fcntl.LOCK_EX:
        write_json_atomic(info_path, {"purpose": purpose, "pid": os.getpid(),
                                      "since": datetime.now().strftime("%Y-%m-%d %H:%M:%S")})
    try:
        yield
    finally:
        del _HELD[key]
        if mode == fcntl.LOCK_EX:
            info_path.unlink(missing_ok=True)
        os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def dataset_lock(name: str, purpose: str, wait_s: float = 0.0) -> Iterator[None]:
    """Hold dataset `name` (a safe output name) for one generate/export; refuse when it is busy.

    An export waits up to `wait_s` for another export or push of the same dataset to finish; it
    never waits for a generate run (that can take hours), it says who holds the dataset instead.
    """
    with _lock(DATABASE, fcntl.LOCK_SH, purpose,
               "The database is being restored by {holder}: run again when it has finished."), \
            _lock(f"dataset-{name}", fcntl.LOCK_EX, purpose,
                  f"Dataset {name!r} is busy: {{holder}} is using it. Wait for it to finish (a "
                  "generate run adds to the same dataset when run again), or choose another "
                  "--output-name.", wait_s):
        yield


def busy_datasets() -> list[str]:
    """Descriptions of the dataset locks held right now by other processes."""
    found = []
    for path in sorted(locks_dir().glob("dataset-*.lock")) if locks_dir().is_dir() else []:
        key = path.name.removesuffix(".lock")
        if key in _HELD or path.is_symlink():
            continue
        fd = _open(path)
        try:
            if _try_flock(fd, fcntl.LOCK_EX):
                continue
            found.append(f"{key.removeprefix('dataset-')!r}: {describe(holder(key))}")
        finally:
            os.close(fd)
    return found


@contextmanager
def database_lock(purpose: str) -> Iterator[None]:
    """Hold the whole database exclusively (restore); refused while a run or export is going on."""
    busy = busy_datasets()
    message = ("Cannot {purpose} now: the database is in use by "
               + ("; ".join(busy) if busy else "{holder}")
               + ". Wait for it to finish (or stop it), then {purpose} again.")
    with _lock(DATABASE, fcntl.LOCK_EX, purpose, message.replace("{purpose}", purpose)):
        yield


@contextmanager
def train_lock(name: str) -> Iterator[None]:
    """One `train` of dataset `name` at a time (upload and job creation); exports are not held up."""
    with _lock(DATABASE, fcntl.LOCK_SH, "train",
               "The database is being restored by {holder}: run again when it has finished."), \
            _lock(f"train-{name}", fcntl.LOCK_EX, "train",
                  f"Dataset {name!r} is being sent for training by {{holder}}: wait for it to "
                  "finish, then run train again (it reports the job it created)."):
        yield
