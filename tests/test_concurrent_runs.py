"""Two `generate` runs on the same database at once: no corruption, no traceback.

Both runs are subprocesses sharing one home (one SQLite file) and one slow fake provider, so their
writes overlap. Either both finish, or one refuses with a clear message; the file stays sound.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import (
    FAST_LIMITS,
    cli_env,
    cli_output,
    provider_env,
    start_cli,
    write_config,
    write_documents,
)


def two_runs_at_once(tmp_path: Path, names: tuple[str, str]) -> tuple[list[int], list[str], Path]:
    docs = tmp_path / "docs"
    write_documents(docs, files=12, paragraphs=2, sentences=6, seed=11)
    home, work = tmp_path / "home", tmp_path / "work"
    with FakeLLMServer(responder=grounded_responder, latency=0.05) as server:
        env = cli_env(home, provider_env(server))
        procs = []
        for n, name in enumerate(names):
            folder = tmp_path / f"config{n}"
            folder.mkdir()
            config = write_config(folder, **{"input.directory": str(docs), "dataset_size": 40,
                                             "output_name": name, "system.concurrency": 4,
                                             "system.rate_limit": FAST_LIMITS})
            procs.append(start_cli(config, work, env, tag=f"run{n}"))
        codes = [proc.wait(timeout=120) for proc in procs]
    errors = [cli_output(work, f"run{n}")[1] for n in range(len(names))]
    return codes, errors, home / "memory" / "dataset_builder.db"


def check_sound(codes: list[int], errors: list[str], database: Path) -> sqlite3.Connection:
    for code, err in zip(codes, errors):
        assert "Traceback" not in err and "Internal error" not in err, err
        assert code == 0 or "Error:" in err, err  # a refusal says why
    assert 0 in codes
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return conn


@pytest.mark.slow
def test_two_runs_with_different_names_share_the_database(tmp_path: Path) -> None:
    codes, errors, database = two_runs_at_once(tmp_path, ("first", "second"))
    conn = check_sound(codes, errors, database)
    assert codes == [0, 0], errors
    counts = dict(conn.execute("SELECT d.name, COUNT(*) FROM samples s JOIN datasets d "
                               "ON d.id = s.dataset_id WHERE s.status = 'accepted' "
                               "GROUP BY d.name").fetchall())
    assert counts == {"first": 40, "second": 40}
    runs = conn.execute("SELECT status FROM runs").fetchall()
    assert sorted(runs) == [("done",), ("done",)]


@pytest.mark.slow
def test_two_runs_with_the_same_name_do_not_corrupt_or_duplicate(tmp_path: Path) -> None:
    codes, errors, database = two_runs_at_once(tmp_path, ("same", "same"))
    conn = check_sound(codes, errors, database)
    assert conn.execute("SELECT COUNT(*) FROM datasets").fetchone() == (1,)
    contents = Counter(row[0] for row in conn.execute("SELECT content FROM samples"))
    assert max(contents.values()) == 1
    accepted = conn.execute("SELECT COUNT(*) FROM samples WHERE status = 'accepted'").fetchone()
    assert accepted[0] >= 40


def test_a_second_run_of_the_same_dataset_is_refused_while_the_first_holds_it(tmp_path) -> None:
    from src.persistence.locks import dataset_lock
    from tests.pipeline_helpers import generate

    config = write_config(tmp_path, mode="identify", output_name="busy")
    with dataset_lock("busy", "generate"):
        code, result, err = generate(config)
    assert code == 2 and result is not None and result["exit_code"] == 2  # --json: one object
    assert "Dataset 'busy' is busy: generate (pid" in err
    code, result, err = generate(config)  # the lock is free again
    assert code == 0 and result["name"] == "busy", err
