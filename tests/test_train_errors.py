"""`train` says one clear thing when something is missing or the provider refuses; --wait, --cancel,
failed jobs and the OpenAI shutdown dates; all against local servers."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import date

import pytest

from src.config import db_path, output_root
from src.errors import UsageError
from src.main import main
from src.masking import mask_secrets
from src.persistence.sqlite_client import Database
from src.training.plan import plan_training
from tests.export_helpers import examples, store
from tests.fake_train_cloud import bedrock_jobs
from tests.train_helpers import (  # noqa: F401 - the fixtures `cfg` and `at`
    KEYS,
    PROVIDERS,
    at_fixture,
    cfg_fixture,
    site,
)


def run(cfg, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["train", *args, "--config", str(cfg)])
    out, err = capsys.readouterr()
    return code, out, err


def job_rows() -> list[dict]:
    with Database(db_path()) as db:
        return db.conn.execute("SELECT * FROM train_jobs").fetchall()


@pytest.mark.parametrize(("provider", "variable"), [
    ("openai", "OPENAI_API_KEY"), ("together", "TOGETHER_API_KEY"),
    ("fireworks", "FIREWORKS_API_KEY"), ("google", "GOOGLE_OAUTH_ACCESS_TOKEN"),
    ("amazon", "AWS_ACCESS_KEY_ID")])
def test_a_missing_credential_names_the_variable_before_any_upload(provider, variable, cfg, at,
                                                                   monkeypatch, capsys) -> None:
    store("handbook", examples(24))
    with site(provider) as raw:
        s = at(raw)
        for name in KEYS:
            monkeypatch.delenv(name, raising=False)
        code, _, err = run(cfg, capsys, "handbook", "--provider", provider)
        assert code == 2 and variable in err and ".env" in err
        assert s.uploads() == [] and s.creates() == [] and job_rows() == []
        assert not (output_root() / "handbook").exists()  # said before any work


@pytest.mark.parametrize(("key", "provider"), [("role_arn", "amazon"), ("s3_bucket", "amazon"),
                                               ("project", "google"), ("gcs_bucket", "google"),
                                               ("account_id", "fireworks")])
def test_a_missing_setting_names_its_config_key(key, provider, cfg, at, capsys) -> None:
    store("handbook", examples(24))
    cfg.write_text(re.sub(rf'{key}: "[^"]*"', f'{key}: ""', cfg.read_text()))
    with site(provider) as raw:
        s = at(raw)
        code, _, err = run(cfg, capsys, "handbook", "--provider", provider)
        assert code == 2 and f"train.{provider}.{key} is not set in config.yaml" in err
        assert s.uploads() == [] and job_rows() == []


def test_quota_refusal_is_one_message_and_the_rerun_reuses_the_upload(cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s = at(raw)
        s.fake.fail["create_job"] = (429, {"error": {
            "message": "You exceeded your current quota, please check your plan and billing "
                       "details.", "type": "insufficient_quota", "code": "insufficient_quota"}})
        code, _, err = run(cfg, capsys, "handbook")
        (error,) = [line for line in err.splitlines() if line.startswith("Error:")]
        assert code == 1 and "quota" in error and "files already uploaded are reused" in error
        assert "Traceback" not in err
        assert job_rows() == []  # a refusal creates nothing: no row left behind
        del s.fake.fail["create_job"]
        code, out, _ = run(cfg, capsys, "handbook")
        assert code == 0 and "reused earlier upload" in out
        assert s.fake.count("upload") == 2 and len(s.fake.jobs) == 1


@pytest.mark.parametrize(("provider", "model", "words"), [
    ("together", "Qwen/Qwen3-32B", "could not find"),
    ("fireworks", "accounts/fireworks/models/qwen3-32b", None),
    ("google", "gemini-3.5-flash", "rejected")])
def test_a_model_the_provider_refuses_comes_back_as_one_message(provider, model, words, cfg, at,
                                                                capsys) -> None:
    store("handbook", examples(24))
    with site(provider) as raw:
        s = at(raw)
        if provider == "fireworks":  # tunable in the catalog, not on this account today
            s.fake.fail["create_job"] = (400, {"code": 3, "message": "model is not tunable"})
            words = "rejected"
        code, _, err = run(cfg, capsys, "handbook", "--provider", provider, "--model", model)
        assert code == 1 and words in err and "Traceback" not in err
        assert job_rows() == []


def test_a_key_echoed_by_the_provider_is_masked(cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s = at(raw)
        s.fake.fail["upload"] = (401, {"error": {
            "message": f"Incorrect API key provided: {KEYS['OPENAI_API_KEY']}.",
            "type": "invalid_request_error", "code": "invalid_api_key"}})
        code, out, err = run(cfg, capsys, "handbook")
        assert code == 2 and "refused the credentials" in err and "OPENAI_API_KEY" in err
        assert KEYS["OPENAI_API_KEY"] not in out + err and "***" in err


def test_a_failed_job_shows_why_and_a_rerun_starts_a_new_one_on_the_same_files(cfg, at,
                                                                                capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s = at(raw)
        s.fake.outcome = "failure"
        code, out, _ = run(cfg, capsys, "handbook", "--wait")
        assert code == 1 and "ended failed: invalid_training_file: line 3: bad" in out
        rows = job_rows()
        assert [r["state"] for r in rows] == ["failed"] and "line 3" in rows[0]["error"]
        s.fake.outcome = "success"
        code, out, _ = run(cfg, capsys, "handbook")
        assert code == 0 and s.fake.count("upload") == 2 and len(s.fake.jobs) == 2
        assert "reused earlier upload" in out


def finish_when_created(state: str) -> threading.Thread:
    """moto never moves a job on: end it as soon as it exists (a provider finishing the job)."""
    def watch() -> None:
        deadline = time.monotonic() + 60
        while not bedrock_jobs() and time.monotonic() < deadline:
            time.sleep(0.01)
        for job in bedrock_jobs().values():
            job.status = state
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("provider", PROVIDERS)
def test_wait_follows_the_job_to_its_end(provider, cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site(provider) as raw:
        at(raw)
        watcher = finish_when_created("Completed") if provider == "amazon" else None
        code, out, err = run(cfg, capsys, "handbook", "--provider", provider, "--wait")
        assert code == 0 and "succeeded: fine-tuned model " in out
        assert f"on {provider}: succeeded" in err
        if watcher:
            watcher.join()


def test_wait_rides_out_a_status_read_the_provider_does_not_answer(cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s = at(raw)
        assert run(cfg, capsys, "handbook")[0] == 0
        s.fake.fail_once["get_job"] = (503, {"error": {"message": "upstream busy"}})
        code, out, err = run(cfg, capsys, "handbook", "--wait")  # the same job: followed
        assert code == 0 and "status not read this time: OpenAI failed while reading the job " \
            "(503" in err and "succeeded: fine-tuned model" in out
        assert len(s.fake.jobs) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cancel_stops_the_running_job(provider, cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site(provider) as raw:
        s = at(raw)
        assert run(cfg, capsys, "handbook", "--provider", provider)[0] == 0
        code, out, _ = run(cfg, capsys, "--cancel", "handbook", "--json")
        row = json.loads(out)
        assert code == 0 and row["state"] in ("cancelled", "cancelling")
        if s.fake is not None:
            assert s.fake.count("cancel_job") == 1
        else:
            assert s.creates()[0]["status"] == "Stopped"
        code, _, err = run(cfg, capsys, "--cancel", "handbook")
        assert code == 2 and "No running training job for 'handbook' (the last one is " \
            "cancelled)" in err


def test_status_says_when_a_provider_cannot_be_asked(cfg, at, monkeypatch, capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        at(raw)
        assert run(cfg, capsys, "handbook")[0] == 0
        monkeypatch.delenv("OPENAI_API_KEY")
        code, out, _ = run(cfg, capsys, "--status")
        assert code == 0 and "status not refreshed: No OpenAI credential" in out


def test_openai_targets_past_their_dates_are_refused_with_the_open_alternatives(cfg, at,
                                                                               capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        s = at(raw)
        code, _, err = run(cfg, capsys, "handbook", "--model", "gpt-4.1-nano")
        assert code == 2 and "Not started" in err and "together:" in err
        code, _, err = run(cfg, capsys, "handbook", "--model", "gpt-4o-mini")
        assert code == 0 and "2027-01-06" in err  # the notice, and the job starts
        assert s.fake.count("create_job") == 1
    with Database(db_path()) as db, pytest.raises(UsageError) as refused:
        plan_training(db, "handbook", "openai", "gpt-4o-mini", today=date(2027, 1, 7))
    assert "stopped accepting new fine-tuning jobs on 2027-01-06" in str(refused.value)
    assert "amazon:amazon.nova-lite-v1:0:300k" in str(refused.value)


@pytest.mark.parametrize(("args", "words"), [
    (["--epochs", "9", "--provider", "amazon"], "takes 1 to 5 epochs"),
    (["--suffix", "no spaces"], "--suffix"), (["--provider", "amazon", "--model", "gpt-4o-mini"],
                                              "Unknown amazon target model")])
def test_bad_settings_are_refused_before_anything_is_sent(args, words, cfg, capsys) -> None:
    store("handbook", examples(24))
    code, _, err = run(cfg, capsys, "handbook", *args)
    assert code == 2 and words in err and job_rows() == []


def test_targets_without_a_job_api_here_say_where_to_go(cfg, capsys) -> None:
    store("claude", examples(40), provider="anthropic", model="claude-3-haiku")
    code, _, err = run(cfg, capsys, "claude")
    assert code == 2 and "--provider amazon" in err


def test_aws_keys_count_as_secrets(monkeypatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS["AWS_SECRET_ACCESS_KEY"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS["AWS_ACCESS_KEY_ID"])
    text = mask_secrets(f"signed with {KEYS['AWS_ACCESS_KEY_ID']}/{KEYS['AWS_SECRET_ACCESS_KEY']}")
    assert text == "signed with ***/***"
