"""`train` against local servers only: every provider uploads exactly the validated export, creates
one job with the right model and settings, and `train --status` follows it to a fine-tuned model;
a second run sends nothing; an invalid dataset is refused before any request."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from src.config import db_path
from src.main import main
from src.persistence.sqlite_client import Database
from tests.export_helpers import examples, store
from tests.train_helpers import (  # noqa: F401 - the fixtures `cfg` and `at`
    KEYS,
    PROVIDERS,
    at_fixture,
    cfg_fixture,
    exported,
    site,
)

MODELS = {"openai": "ft:gpt-4o-mini-2024-07-18:org-x:hb1:AbC123",
          "together": "user/Meta-Llama-3.1-8B-Instruct-Reference-hb1-1a2b",
          "fireworks": "accounts/acct1/models/hb1",
          "google": "projects/proj1/locations/us-central1/models/777@1"}


def train(cfg: Path, capsys, *args: str, code: int = 0) -> dict:
    assert main(["train", *args, "--config", str(cfg), "--json"]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def check_create(provider: str, body: dict, files: dict[str, str]) -> None:
    """The job-create request carries the right base model, epochs, suffix and files."""
    if provider == "openai":
        assert body["model"] == "gpt-4o-mini-2024-07-18" and "hyperparameters" not in body
        assert body["method"] == {"type": "supervised",
                                  "supervised": {"hyperparameters": {"n_epochs": 2}}}
        assert (body["training_file"], body["validation_file"], body["suffix"]) == \
            (files["train"], files["validation"], "hb1")
    elif provider == "together":
        assert body["model"] == "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
        assert (body["n_epochs"], body["suffix"], body["training_type"]["type"]) == (2, "hb1",
                                                                                      "Lora")
        assert (body["training_file"], body["validation_file"]) == (files["train"],
                                                                    files["validation"])
    elif provider == "fireworks":
        assert body["baseModel"] == "accounts/fireworks/models/qwen3-8b"
        assert (body["epochs"], body["outputModel"], body["dataset"],
                body["evaluationDataset"]) == (2, "hb1", files["train"], files["validation"])
    elif provider == "google":
        spec = body["supervisedTuningSpec"]
        assert body["baseModel"] == "gemini-2.5-flash" and body["tunedModelDisplayName"] == "hb1"
        assert spec["hyperParameters"]["epochCount"] == 2
        assert (spec["trainingDatasetUri"], spec["validationDatasetUri"]) == (files["train"],
                                                                              files["validation"])
        assert files["train"].startswith("gs://tune-bucket/ftdb/handbook_train-")
    else:
        assert body["baseModelArn"].endswith("amazon.nova-lite-v1:0:300k")
        assert body["hyperParameters"] == {"epochCount": "2"}
        assert body["roleArn"] == "arn:aws:iam::123456789012:role/BedrockTuning"
        assert body["trainingDataConfig"]["s3Uri"] == files["train"]
        assert body["validationDataConfig"]["validators"] == [{"s3Uri": files["validation"]}]
        assert files["train"].startswith("s3://tune-bucket/ftdb/handbook_train-")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_train_uploads_the_validated_export_and_status_follows_it_to_the_model(
        provider, cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site(provider) as raw:
        s = at(raw)
        job = train(cfg, capsys, "handbook", "--provider", provider, "--epochs", "2", "--suffix",
                    "hb1")
        assert s.uploads() == [exported(provider, "train").read_bytes(),
                               exported(provider, "validation").read_bytes()]
        assert job["uploaded"] == ["train", "validation"] and not job["existing"]
        (body,) = s.creates()
        check_create(provider, body, job["files"])
        assert job["job_id"] and job["state"] in ("queued", "running")
        s.finish("Completed")
        for _ in range(5):
            (row,) = train(cfg, capsys, "--status", "handbook")["jobs"]
            if row["state"] == "succeeded":
                break
        assert row["state"] == "succeeded" and row["job_id"] == job["job_id"]
        assert row["fine_tuned_model"] == MODELS.get(provider, row["fine_tuned_model"])
        if provider == "amazon":
            assert row["fine_tuned_model"].startswith("arn:aws:bedrock:us-east-1:")
        again = train(cfg, capsys, "handbook", "--provider", provider, "--epochs", "2", "--suffix",
                      "hb1")
        assert again["existing"] and again["job_id"] == job["job_id"] and not again["uploaded"]
        assert len(s.uploads()) == 2 and len(s.creates()) == 1


def test_invalid_dataset_is_refused_before_any_request(cfg, at, capsys) -> None:
    store("tiny", examples(6, split_every=None))  # OpenAI needs at least 10 examples
    with site("openai") as raw:
        s = at(raw)
        assert main(["train", "tiny", "--provider", "openai", "--config", str(cfg)]) == 2
        err = capsys.readouterr().err
        assert "Not uploaded" in err and "at least 10" in err and "validate" in err
        assert s.fake is not None and s.fake.requests == []
    with Database(db_path()) as db:
        assert db.conn.execute("SELECT COUNT(*) AS n FROM train_uploads").fetchone()["n"] == 0


def test_nova_reserved_words_are_refused_before_anything_reaches_s3(cfg, at, capsys) -> None:
    items = examples(12, split_every=None)
    items[3].turns[1].content = "Bot: the fee is 150,000 rupees."
    store("nova", items, provider="amazon", model="amazon.nova-lite-v1:0:300k")
    with site("amazon") as raw:
        s = at(raw)
        assert main(["train", "nova", "--config", str(cfg)]) == 2
        assert "Bot:" in capsys.readouterr().err
        assert s.uploads() == [] and s.creates() == []


def test_keys_never_reach_the_database_or_the_log(cfg, at, capsys) -> None:
    store("handbook", examples(24))
    with site("openai") as raw:
        at(raw)
        train(cfg, capsys, "handbook")
        train(cfg, capsys, "--status")
    with closing(sqlite3.connect(db_path())) as conn:
        dump = "\n".join(conn.iterdump())
    log = (db_path().parent / "logs" / "builder.log")
    text = dump + (log.read_text("utf-8") if log.exists() else "")
    assert KEYS["OPENAI_API_KEY"] not in text and "train_jobs" in dump


def test_an_unsplit_dataset_uploads_its_one_file_as_train(cfg, at, capsys) -> None:
    store("handbook", examples(12, split_every=None))
    with site("fireworks") as raw:
        s = at(raw)
        job = train(cfg, capsys, "handbook", "--provider", "fireworks")
        one = exported("fireworks").with_name("handbook_fireworks.jsonl")
        assert s.uploads() == [one.read_bytes()] and list(job["files"]) == ["train"]
        (body,) = s.creates()
        assert "evaluationDataset" not in body and "epochs" not in body  # the provider's default


def test_nova_2_lite_gets_no_validation_file_and_says_so(cfg, at, capsys) -> None:
    store("handbook", examples(250))  # Nova 2 Lite needs at least 200 examples
    with site("amazon") as raw:
        s = at(raw)
        job = train(cfg, capsys, "handbook", "--provider", "amazon", "--model",
                    "amazon.nova-2-lite-v1:0:256k")
        assert list(job["files"]) == ["train"] and len(s.uploads()) == 1
        assert any("ignores a validation file" in n for n in job["notices"])
        (created,) = s.creates()
        assert "validationDataConfig" not in created and not created.get("hyperParameters")
