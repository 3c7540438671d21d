"""Dataset statistics: tokens and histogram, breakdowns, quality, cost, coverage, commands."""

from __future__ import annotations

import json

import pytest

from src.cli.render import BAR_WIDTH, render_histogram
from src.cli.render import render_stats as render
from src.config import db_path
from src.export.stats import dataset_stats, histogram, token_summary
from src.main import main
from src.models import CoverageRow, Example, Turn
from src.persistence.sqlite_client import Database


def example(i: int, source: str, keyword: str, split: str = "train", **kw: object) -> Example:
    ex = Example(turns=[Turn("user", f"q{i}"), Turn("assistant", f"a{i}")], source_file=source,
                 topic_keywords=[keyword, "z"], token_length=100 + i, split=split,
                 chunk_id=f"{source}#{i % 3}", scores={"overall": 0.8, "detail": 0.6})
    for key, value in kw.items():
        setattr(ex, key, value)
    return ex


@pytest.fixture
def stored() -> str:
    """A dataset: 6 accepted (2 sources), 2 rejected, 2 runs, 5 recorded chunks."""
    samples = [example(i, "a.pdf" if i < 4 else "b.docx", "Visa" if i % 2 else "fees",
                       "validation" if i in (0, 4) else "train") for i in range(6)]
    samples += [example(9, "a.pdf", "fees", "", reasons=["low_extractive"],
                        scores={"overall": 0.2}),
                example(10, "c.txt", "fees", "", reasons=["low_extractive", "duplicate"],
                        scores={"overall": 0.4})]
    with Database(db_path()) as db:
        ds = db.upsert_dataset("guide", "mistral", "open-mistral-7b", "create", {})
        db.save_examples(ds, samples)
        db.add_coverage(ds, [CoverageRow(f"a.pdf#{k}", "a.pdf", f"page {k}") for k in range(4)]
                        + [CoverageRow("b.docx#0", "b.docx", "paragraph 1", generated=2)])
        for run, cost in (("r1", 0.02), ("r2", 0.04)):
            db.start_run(run, ds)
            db.finish_run(run, "done", 5, 1000, 300, cost, {})
        db.set_split_report(ds, {"notes": ["2 group(s) too small"], "leakage_moved": 1})
    return "guide"


def test_token_summary_and_histogram() -> None:
    lengths = list(range(1, 101))
    summary = token_summary(lengths)
    assert (summary["total"], summary["mean"], summary["median"], summary["p90"]) == \
        (5050, 50.5, 50.5, 90)
    assert [(b["from"], b["to"], b["count"]) for b in summary["histogram"]][:2] == \
        [(1, 10, 10), (11, 20, 10)]
    assert sum(b["count"] for b in summary["histogram"]) == 100
    assert histogram([7, 7, 7]) == [{"from": 7, "to": 7, "count": 3}]
    assert token_summary([])["histogram"] == []


def test_histogram_is_drawn_with_plain_characters() -> None:
    text = render_histogram(histogram([10] * 8 + [50] * 4 + [90]))
    lines = text.splitlines()
    assert lines[0].startswith("10-18 | " + "#" * BAR_WIDTH) and lines[0].endswith(" 8")
    assert "#" * (BAR_WIDTH // 2) + " " in lines[4]  # half as many samples: half a bar
    assert lines[-1].endswith(" 1") and text.isascii()
    assert render_histogram([]) == "(no samples)"


def test_dataset_stats(stored: str) -> None:
    with Database(db_path()) as db:
        s = dataset_stats(db, stored)
    assert s["counts"] == {"accepted": 6, "rejected": 2, "train": 4, "validation": 2, "unsplit": 0,
                           "surplus": 0}
    assert s["tokens"]["total"] == sum(100 + i for i in range(6))
    assert s["by_source"]["a.pdf"] == {"samples": 4, "tokens": 406, "train": 3, "validation": 1}
    assert s["by_keyword"]["visa"]["samples"] == 3 and s["by_keyword"]["fees"]["validation"] == 2
    assert s["quality"]["accepted_means"] == {"detail": 0.6, "overall": 0.8}
    assert s["quality"]["rejected_means"]["overall"] == pytest.approx(0.3)
    assert s["quality"]["rejection_reasons"] == {"low_extractive": 2, "duplicate": 1}
    assert s["cost"]["runs"] == 2 and s["cost"]["cost_usd"] == pytest.approx(0.06)
    assert s["cost"]["cost_per_accepted"] == pytest.approx(0.01)
    assert s["split"] == {"notes": ["2 group(s) too small"], "leakage_moved": 1}


def test_coverage_per_source_file(stored: str) -> None:
    with Database(db_path()) as db:
        cov = dataset_stats(db, stored)["coverage"]
    # a.pdf: samples came from chunks #0, #1, #2 (i % 3); #3 was never used
    assert cov["a.pdf"] == {"chunks": 4, "chunks_used": 3, "chunks_unused": 1, "share_used": 0.75,
                            "locations": 4, "locations_used": 3, "accepted": 4, "rejected": 1}
    assert cov["b.docx"]["chunks_used"] == 1 and cov["b.docx"]["accepted"] == 2
    assert cov["c.txt"] == {"chunks": 0, "chunks_used": 0, "chunks_unused": 0, "share_used": None,
                            "locations": 0, "locations_used": 0, "accepted": 0, "rejected": 1}


def test_render_shows_every_section(stored: str) -> None:
    with Database(db_path()) as db:
        text = render(dataset_stats(db, stored))
    for part in ("Samples: 6 accepted (train 4, validation 2); 2 rejected",
                 "Token length histogram",
                 "By source file", "By first keyword", "overall 0.80", "low_extractive 2",
                 "$0.0600 over 2 run(s)", "Coverage per source file", "2 group(s) too small"):
        assert part in text
    coverage = text.split("Coverage per source file")[1]
    coverage_line = next(line for line in coverage.splitlines() if line.startswith("a.pdf"))
    assert coverage_line.split() == ["a.pdf", "4", "3", "1", "3/4", "4", "1"]


def test_stats_and_list_commands(stored: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["stats", stored, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["accepted"] == 6
    assert main(["stats", stored]) == 0
    assert "Coverage per source file" in capsys.readouterr().out
    assert main(["list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == ["guide"] and "config" not in listed[0]
    assert main(["stats", "nope"]) == 1
    assert "src.main list" in capsys.readouterr().err
