"""Exports, restore and generate respect one another: locks, folders that switch as one, no link followed.

Other processes are real subprocesses (a lock held by another process, an export killed with
SIGKILL at random moments, two exports at once), because flock and rename are what is tested.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from src.config import PROJECT_ROOT, db_path, output_root
from src.main import main
from src.persistence.backup import backup_database
from src.persistence.sqlite_client import Database
from tests.export_helpers import examples, store
from tests.pipeline_helpers import cli_env, write_config

HOLD = """
import sys, time
from src.persistence.locks import database_lock, dataset_lock
kind, name = sys.argv[1], sys.argv[2]
lock = database_lock("restore") if kind == "restore" else dataset_lock(name, kind)
with lock:
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def hold(kind: str, name: str, seconds: float) -> subprocess.Popen:
    """Another process holding a lock (generate/export on `name`, or restore) for `seconds`."""
    env = cli_env(db_path().parent.parent)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, kind, name, str(seconds)],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def export_cli(name: str, *extra: str) -> subprocess.Popen:
    env = cli_env(db_path().parent.parent)
    return subprocess.Popen([sys.executable, "-m", "src.main", "export", name, *extra],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_export_during_a_generate_run_is_refused_with_who_holds_it(capsys) -> None:
    store("busy", examples(30))
    proc = hold("generate", "busy", 30)
    try:
        assert main(["export", "busy"]) == 2
        err = capsys.readouterr().err
        assert f"Dataset 'busy' is busy: generate (pid {proc.pid}" in err
        assert not (output_root() / "busy").exists()
    finally:
        proc.kill()
        proc.wait()
    assert main(["export", "busy"]) == 0  # the kernel dropped the killed holder's lock


def test_an_export_waits_for_another_export_of_the_same_dataset() -> None:
    store("shared", examples(30))
    proc = hold("export", "shared", 1.5)
    started = time.monotonic()
    assert main(["export", "shared"]) == 0
    assert time.monotonic() - started >= 1.0
    proc.wait()


def test_restore_is_refused_while_a_run_holds_the_database(capsys) -> None:
    store("running", examples(12))
    backup_database(db_path(), keep=3)
    proc = hold("generate", "running", 30)
    try:
        assert main(["restore", "--yes"]) == 2
        err = capsys.readouterr().err
        assert "Cannot restore now: the database is in use by 'running': generate (pid" in err
    finally:
        proc.kill()
        proc.wait()
    assert main(["restore", "--yes"]) == 0


def test_generate_and_export_are_refused_while_restore_holds_the_database(tmp_path, capsys) -> None:
    store("later", examples(12))
    proc = hold("restore", "-", 30)
    try:
        assert main(["export", "later"]) == 2
        config = write_config(tmp_path, mode="identify", output_name="later")
        assert main(["generate", "--config", str(config), "--yes"]) == 2
        err = capsys.readouterr().err
        assert err.count("The database is being restored by restore (pid") == 2
    finally:
        proc.kill()
        proc.wait()


def _consistent(folder: Path) -> tuple[int, int]:
    """The set in `folder` is one export's: stats name exactly the JSONL files present."""
    stats = json.loads((folder / "big_stats.json").read_text(encoding="utf-8"))
    counts = stats["export"]["counts"]
    present = {p.name for p in folder.glob("big*.jsonl")}
    assert present == {f"big_{k}.jsonl" for k in counts}, (present, counts)
    for key, n in counts.items():
        with open(folder / f"big_{key}.jsonl", "rb") as handle:
            assert sum(1 for _ in handle) == n
    return counts["train"], counts["validation"]


@pytest.mark.slow
def test_a_kill_at_any_moment_leaves_one_whole_export_and_no_leftovers() -> None:
    items = examples(3000, split_every=10)
    store("big", items)
    assert main(["export", "big"]) == 0
    folder = output_root() / "big"
    states = {_consistent(folder)}
    started = time.monotonic()
    assert export_cli("big").wait(timeout=120) == 0  # how long a whole export takes here
    whole = time.monotonic() - started
    rng = random.Random(5)
    for round_ in range(10):
        with Database(db_path()) as db:  # each export differs from the one before
            every = 3 + round_ % 5
            db.set_splits({ex.id: "validation" if i % every == 0 else "train"
                           for i, ex in enumerate(items)})
        proc = export_cli("big")
        time.sleep(whole * rng.uniform(0.3, 1.3))  # from start-up to after the swap
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        states.add(_consistent(folder))  # old set or new set, never a mix
    assert len(states) > 1  # some kills landed after the swap
    assert main(["export", "big"]) == 0
    hidden = [p.name for p in output_root().iterdir() if p.name.startswith(".")]
    assert hidden == [] and not list(folder.glob(".*"))  # the next export cleared every leftover


@pytest.mark.slow
def test_two_exports_at_once_both_finish_and_agree() -> None:
    store("twice", examples(3000, split_every=10))
    first, second = export_cli("twice", "--json"), export_cli("twice", "--json")
    outputs = [proc.communicate(timeout=120) for proc in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert "Traceback" not in "".join(err for _, err in outputs)
    folder = output_root() / "twice"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        Path(f).name for f in json.loads(outputs[0][0])["files"].values())


def test_a_lock_file_planted_as_a_link_is_refused_not_followed(capsys) -> None:
    store("linked", examples(12))
    victim = db_path().parent / "victim.txt"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_text("keep me")
    locks = db_path().parent / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "dataset-linked.lock").symlink_to(victim)
    assert main(["export", "linked"]) == 1
    assert "lock files are never links" in capsys.readouterr().err
    assert victim.read_text() == "keep me"


def test_the_errors_json_replaces_a_planted_link_instead_of_writing_through_it() -> None:
    store("errs", examples(12))
    victim = db_path().parent / "victim.txt"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_text("keep me")
    folder = output_root() / "errs"
    folder.mkdir(parents=True)
    (folder / "errs_errors.json").symlink_to(victim)
    assert main(["analyze-errors", "errs"]) == 0
    assert victim.read_text() == "keep me"
    assert not (folder / "errs_errors.json").is_symlink()
    assert json.loads((folder / "errs_errors.json").read_text())["dataset"] == "errs"
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]


def test_a_planted_link_at_the_dataset_folder_is_refused(capsys) -> None:
    store("escape", examples(12))
    elsewhere = db_path().parent / "elsewhere"
    elsewhere.mkdir(parents=True)
    output_root().mkdir(parents=True, exist_ok=True)
    (output_root() / "escape").symlink_to(elsewhere, target_is_directory=True)
    assert main(["export", "escape"]) == 2
    assert "symbolic link? remove it" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_lock_info_is_written_atomically_and_removed_after() -> None:
    from src.persistence.locks import dataset_lock, holder, locks_dir

    with dataset_lock("info", "export"):
        info = holder("dataset-info")
        assert info["purpose"] == "export" and info["pid"] == os.getpid()
        assert not [p for p in locks_dir().iterdir() if p.name.endswith(".part")]
    assert holder("dataset-info") == {}


@pytest.mark.slow
def test_restore_during_a_real_generate_run_is_refused_and_the_run_keeps_its_samples(
        tmp_path: Path) -> None:
    from tests.fake_llm_server import FakeLLMServer
    from tests.grounded_responder import grounded_responder
    from tests.pipeline_helpers import (
        FAST_LIMITS,
        cli_output,
        provider_env,
        start_cli,
        write_documents,
    )

    docs = tmp_path / "docs"
    write_documents(docs, files=10, paragraphs=2, sentences=6, seed=3)
    home = db_path().parent.parent
    store("earlier", examples(30))
    backup_database(db_path(), keep=3)
    with FakeLLMServer(responder=grounded_responder, latency=0.1) as server:
        config = write_config(tmp_path, **{"input.directory": str(docs), "dataset_size": 30,
                                           "output_name": "live", "system.concurrency": 2,
                                           "system.rate_limit": FAST_LIMITS})
        proc = start_cli(config, tmp_path / "work", cli_env(home, provider_env(server)))
        deadline = time.monotonic() + 60
        while not server.stats.requests and time.monotonic() < deadline:  # the run is paying now
            time.sleep(0.05)
        restore = subprocess.run([sys.executable, "-m", "src.main", "restore", "--yes"],
                                 cwd=PROJECT_ROOT, env=cli_env(home), capture_output=True,
                                 text=True, timeout=60)
        code = proc.wait(timeout=180)
    result, err = cli_output(tmp_path / "work")
    assert restore.returncode == 2 and "Cannot restore now" in restore.stderr
    assert "'live': generate (pid" in restore.stderr
    assert code == 0 and result is not None, err
    with Database(db_path()) as db:  # the live database holds what the run reported
        live = db.load_examples(db.get_dataset("live")["id"], "accepted")
    assert len(live) == result["counts"]["samples"] == 30
