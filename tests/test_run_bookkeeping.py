"""Runs as the database records them, and counts as a user reads them (issue 21 "Smaller", 22 #6):
surplus apart from rejects and reused by a larger size, runs `done` only after their export, killed
runs marked on the next start, an unsplit export warned about, JSON for every outcome, a full disk."""

from __future__ import annotations

import contextlib
import io
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from src.config import PROJECT_ROOT, db_path
from src.main import main
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import grounded_responder
from tests.pipeline_helpers import (
    FAST_LIMITS,
    cli_env,
    generate,
    point_env_at,
    provider_env,
    run_cli,
    start_cli,
    write_config,
    write_documents,
)


def command(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def rows(sql: str, *params: object, home: Path | None = None) -> list[dict]:
    path = home / "memory" / "dataset_builder.db" if home else db_path()
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


@pytest.fixture(name="server")
def server_fixture(monkeypatch: pytest.MonkeyPatch):
    with FakeLLMServer(responder=grounded_responder) as fake:
        point_env_at(fake, monkeypatch)
        yield fake


def test_surplus_is_counted_apart_and_a_larger_size_reuses_it_without_paying(server, tmp_path):
    size = 2  # the first work item (a passage's questions) writes more: its others are surplus
    config = write_config(tmp_path, dataset_size=size, output_name="surplus",
                          **{"system.rate_limit": FAST_LIMITS})
    code, first, err = generate(config)
    assert code == 0, err
    surplus = first["counts"]["surplus"]
    assert surplus > 0 and first["counts"]["samples"] == size
    assert "over_size_cap" not in first["summary"]["rejected_by_reason"]
    assert first["counts"]["rejected"] == sum(first["summary"]["rejected_by_reason"].values())
    assert "surplus (good, beyond the size asked for" in err

    code, text, _ = command("stats", "surplus", "--json")
    assert '"surplus": ' + str(surplus) in text
    code, report, err = command("analyze-errors", "surplus")
    assert "passed the checks" in err + report and "Only" not in err + report

    sent = server.stats.requests
    code, second, err = generate(config, "--size", str(size + surplus))
    assert code == 0, err
    assert second["counts"]["samples"] == size + surplus and second["counts"]["surplus"] == 0
    assert second["summary"]["surplus_reused"] == surplus
    assert server.stats.requests == sent and second["requests"] == 0  # nothing paid again
    assert f"Reused {surplus} surplus sample(s)" in err


def test_a_run_is_done_only_once_its_files_are_written(server, tmp_path):
    config = write_config(tmp_path, mode="identify", output_name="blocked")
    blocker = Path(db_path()).parent.parent / "output_datasets" / "blocked"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the dataset's folder must go")
    code, result, err = generate(config)
    assert code != 0 and "Traceback" not in err
    assert [r["status"] for r in rows("SELECT status FROM runs")] == ["failed"]
    blocker.unlink()
    code, result, err = generate(config)
    assert code == 0, err
    assert [r["status"] for r in rows("SELECT status FROM runs ORDER BY rowid")] == \
        ["failed", "done"]


def half_broken(request: FakeRequest) -> dict | str:
    """The grounded model, except that it garbles every reply about odd-numbered guides: the run
    then needs more passes, so it is still at work after it saved samples."""
    if re.search(r"guide_\d[13579]\.md", request.user):
        return '{"conversations": [{"n": 1, "turns": [{"question": "cut off'
    return grounded_responder(request)


@pytest.mark.slow
def test_a_killed_run_is_marked_on_the_next_start_and_its_unsplit_export_is_warned(tmp_path,
                                                                                  monkeypatch):
    docs = tmp_path / "docs"
    write_documents(docs, files=12, paragraphs=1, sentences=6, seed=4)
    config = write_config(tmp_path, **{"input.directory": str(docs), "dataset_size": 24,
                                       "output_name": "killed", "system.concurrency": 8,
                                       "system.rate_limit": FAST_LIMITS})
    home = Path(db_path()).parent.parent  # this test's home: the killed run and the later ones
    with FakeLLMServer(responder=half_broken, latency=0.1) as server:
        proc = start_cli(config, tmp_path / "work", cli_env(home, provider_env(server)))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _accepted(home):
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # after the first samples were saved, before any split
        proc.wait(timeout=10)
        assert rows("SELECT status FROM runs") == [{"status": "running"}]
        code, _, err = command("export", "killed")
        assert code == 0, err
        assert "have no train/validation split" in err
        assert "Run generate again with the same dataset name" in err
        point_env_at(server, monkeypatch)
        code, result, err = generate(config)
    assert code == 0, err
    assert [r["status"] for r in rows("SELECT status FROM runs ORDER BY rowid")] == \
        ["interrupted", "done"]
    assert result["counts"]["train"] and result["counts"]["validation"]


def _accepted(home: Path) -> bool:
    """At least the 10 accepted samples an OpenAI file needs to be valid are saved."""
    try:
        return rows("SELECT COUNT(*) AS n FROM samples WHERE status = 'accepted'",
                    home=home)[0]["n"] >= 10
    except sqlite3.OperationalError:  # not created yet
        return False


def test_generate_json_reports_a_run_whose_every_sample_is_rejected(server, tmp_path):
    config = write_config(tmp_path, dataset_size=5, output_name="nothing",  # English sources:
                          **{"quality.target_language": "fr",  # all rejected
                             "system.rate_limit": FAST_LIMITS})
    code, result, err = generate(config)
    assert code == 1 and result is not None
    assert result["counts"]["samples"] == 0 and result["counts"]["rejected"] > 0
    assert set(result["files"]) == {"errors"}
    assert any("No sample was accepted" in w for w in result["warnings"])


DISK_CHILD = """
import resource, sys
sys.argv = ["src.main", "generate", "--config", {config!r}, "--yes", "--json"]
limit = {limit}
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # no file may grow past this: a full disk
from src.main import main
sys.exit(main())
"""


@pytest.mark.slow
def test_a_full_disk_is_a_clear_message_and_the_run_is_marked_on_the_next_start(tmp_path):
    docs = tmp_path / "docs"
    write_documents(docs, files=12, paragraphs=3, sentences=6, seed=8)
    config = write_config(tmp_path, **{"input.directory": str(docs), "dataset_size": 10,
                                       "output_name": "full", "system.rate_limit": FAST_LIMITS})
    home = tmp_path / "home"
    with FakeLLMServer(responder=grounded_responder) as server:
        env = cli_env(home, provider_env(server))
        code, result, err = run_cli(config, tmp_path / "work", env, tag="seed")  # a database to grow
        assert code == 0, err
        size = (home / "memory" / "dataset_builder.db").stat().st_size
        child = DISK_CHILD.format(config=str(config), limit=size + 64 * 1024)
        write_config(tmp_path, **{"input.directory": str(docs), "dataset_size": 2000,
                                  "output_name": "full", "system.rate_limit": FAST_LIMITS})
        proc = subprocess.run([sys.executable, "-c", child], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert "Free some disk space" in proc.stderr
        assert "Traceback" not in proc.stderr and "Internal error" not in proc.stderr
        assert "Logging error" not in proc.stderr
        code, result, err = run_cli(config, tmp_path / "work", env, tag="after")
    assert code == 0, err
    statuses = [r["status"] for r in rows("SELECT status FROM runs ORDER BY rowid", home=home)]
    assert statuses[0] == "done" and statuses[-1] == "done"
    assert statuses[1] in ("failed", "interrupted")  # never left `running`
    assert resource.getrlimit(resource.RLIMIT_FSIZE)  # (the limit applied to the child only)
