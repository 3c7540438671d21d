"""Exports: JSONL per split in the target's format, metadata CSV (escaped), stats JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from src.config import db_path, output_root
from src.errors import UsageError
from src.export.exporter import csv_safe, export_dataset
from src.main import main
from src.models import Example, Turn
from src.persistence.sqlite_client import Database


def make_examples(n: int, split_every: int | None = 5) -> list[Example]:
    examples = []
    for i in range(n):
        ex = Example(turns=[Turn("user", f"What is rule {i}?"), Turn("assistant", f"Rule {i}.")],
                     system="Answer from the handbook.", source_file=f"doc{i % 2}.pdf",
                     topic_keywords=["rules", f"k{i}"], token_length=20 + i, mode="identify",
                     origin="extracted", location=f"page {i}", scores={"overall": 0.5 + i / 100})
        if split_every:
            ex.split = "validation" if i % split_every == 0 else "train"
        examples.append(ex)
    return examples


def store(name: str, examples: list[Example], provider: str = "openai",
          config: dict | None = None) -> None:
    with Database(db_path()) as db:
        ds = db.upsert_dataset(name, provider, "gpt-4o-mini", "identify", config or {})
        db.save_examples(ds, examples)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_split_dataset_exports_train_validation_csv_and_stats() -> None:
    store("handbook", make_examples(20))
    with Database(db_path()) as db:
        result = export_dataset("handbook", db)
    folder = output_root() / "handbook"
    assert result.folder == folder.resolve()
    assert {k: p.name for k, p in result.files.items()} == {
        "train": "handbook_train.jsonl", "validation": "handbook_validation.jsonl",
        "csv": "handbook_metadata.csv", "stats": "handbook_stats.json",
        "report": "handbook_report.html"}
    train, validation = lines(result.files["train"]), lines(result.files["validation"])
    assert (len(train), len(validation)) == (16, 4) == (result.counts["train"],
                                                        result.counts["validation"])
    assert validation[0]["messages"][0] == {"role": "system",
                                            "content": "Answer from the handbook."}
    assert validation[0]["messages"][1]["content"] == "What is rule 0?"
    stats = json.loads(result.files["stats"].read_text())
    assert stats["counts"]["accepted"] == 20 and stats["tokens"]["total"] == sum(range(20, 40))
    assert stats["export"]["files"]["train"] == "handbook_train.jsonl"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in result.files.values())


def test_csv_has_metadata_and_scores() -> None:
    store("handbook", make_examples(3))
    with Database(db_path()) as db:
        result = export_dataset("handbook", db)
    with open(result.files["csv"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:6] == ["sample_id", "content_preview", "token_length",
                                 "topic_keywords", "source_file", "split"]
    assert rows[1]["content_preview"] == "user: What is rule 1? | assistant: Rule 1."
    assert (rows[1]["topic_keywords"], rows[1]["split"], rows[1]["score_overall"]) == \
        ("rules, k1", "train", "0.51")


def test_unsplit_dataset_is_one_file_and_a_later_split_replaces_it() -> None:
    examples = make_examples(6, split_every=None)
    store("flat", examples)
    with Database(db_path()) as db:
        first = export_dataset("flat", db)
        assert first.files["all"].name == "flat.jsonl" and len(lines(first.files["all"])) == 6
        db.set_splits({examples[0].id: "validation"} | {e.id: "train" for e in examples[1:]})
        second = export_dataset("flat", db)
    assert not first.files["all"].exists()
    assert len(lines(second.files["validation"])) == 1


def test_re_export_in_another_format_from_the_command_line(capsys: pytest.CaptureFixture) -> None:
    store("handbook", make_examples(10), provider="google")
    assert main(["export", "handbook", "--format", "alpaca", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "alpaca"
    record = lines(Path(report["files"]["train"]))[0]
    assert record["instruction"] == "What is rule 1?" and record["output"] == "Rule 1."
    assert main(["export", "handbook", "--json"]) == 0  # native: the target's own format
    record = lines(Path(json.loads(capsys.readouterr().out)["files"]["train"]))[0]
    assert "contents" in record


def test_stored_output_format_is_the_default(tmp_path: Path) -> None:
    store("handbook", make_examples(4), config={"output": {"format": "sharegpt"}})
    with Database(db_path()) as db:
        result = export_dataset("handbook", db, out_dir=tmp_path / "elsewhere")
    assert result.fmt == "sharegpt"
    assert result.folder == (tmp_path / "elsewhere" / "handbook").resolve()
    assert "conversations" in lines(result.files["train"])[0]


def test_hostile_cells_are_escaped_for_spreadsheets() -> None:
    ex = make_examples(1, split_every=None)[0]
    ex.source_file = "=HYPERLINK(\"http://x\",\"y\").pdf"
    ex.topic_keywords = ["@SUM(A1)", "x"]
    ex.turns = [Turn("user", "+cmd|' /C calc'!A0"), Turn("assistant", "fine")]
    ex.location = "-2+3"
    store("evil", [ex])
    with Database(db_path()) as db:
        result = export_dataset("evil", db)
    with open(result.files["csv"], newline="", encoding="utf-8") as handle:
        row = list(csv.DictReader(handle))[0]
    assert row["source_file"] == "'=HYPERLINK(\"http://x\",\"y\").pdf"
    assert row["topic_keywords"] == "'@SUM(A1), x"
    assert row["location"] == "'-2+3"
    assert row["content_preview"].startswith("user: +cmd")  # starts with text: left alone


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("a=b", "a=b"), ("", ""), (0.5, 0.5), (-3, -3)])
def test_csv_safe(value: object, expected: object) -> None:
    assert csv_safe(value) == expected


def test_a_hostile_dataset_name_stays_inside_output_datasets() -> None:
    store("../../etc/evil", make_examples(2, split_every=None))
    with Database(db_path()) as db:
        result = export_dataset("../../etc/evil", db)
    assert result.folder.parent == output_root().resolve()
    assert result.folder.name.startswith("etc_evil-")
    assert result.files["all"].name == f"{result.folder.name}.jsonl"


def test_unknown_format_and_empty_dataset_are_refused() -> None:
    store("handbook", make_examples(2))
    store("empty", [])
    with Database(db_path()) as db:
        with pytest.raises(UsageError, match="alpaca"):
            export_dataset("handbook", db, fmt="csv")
        with pytest.raises(UsageError, match="no accepted samples"):
            export_dataset("empty", db)


def test_export_of_an_unknown_dataset_says_how_to_list(capsys: pytest.CaptureFixture) -> None:
    assert main(["export", "missing"]) == 1
    assert "src.main list" in capsys.readouterr().err


@pytest.mark.parametrize(("provider", "model"), [
    ("openai", "gpt-4o-mini-2024-07-18"), ("mistral", "open-mistral-7b"),
    ("google", "gemini-2.5-flash"), ("anthropic", "claude-3-haiku-20240307")])
def test_exported_files_pass_validate_for_their_target(provider: str, model: str) -> None:
    validator = pytest.importorskip("src.targets.validator")
    with Database(db_path()) as db:
        ds = db.upsert_dataset("target", provider, model, "identify", {})
        db.save_examples(ds, make_examples(60))
        result = export_dataset("target", db)
    for split in ("train", "validation"):
        report = validator.validate_file(result.files[split], provider, model, split=split)
        assert report.ok, report.to_dict()["errors"]
        assert report.examples == result.counts[split]
