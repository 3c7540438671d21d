"""Error analysis: categories, counts, worst examples, distributions, advice, and the command."""

from __future__ import annotations

import json
from pathlib import Path

from src.cli.render import error_summary
from src.config import QualityConfig, db_path, output_root
from src.main import main
from src.models import Example, Turn
from src.persistence.sqlite_client import Database
from src.quality import dedup, error_analysis, scores

SOURCE = ("Sharda University charges a tuition fee of ₹1,20,000 per year for B.Tech Computer Science. "
          "Students with HSC GPA 5.0 receive a 50% scholarship. The application deadline is 30 June 2025.")


def sample(answer: str, source_file: str = "sharda.pdf", location: str = "page 2") -> Example:
    return Example(turns=[Turn("user", "What does B.Tech cost at Sharda University?"),
                          Turn("assistant", answer)], context=SOURCE, origin="synthetic",
                   mode="create", source_file=source_file, location=location)


def realistic_batch() -> list[Example]:
    """Two good answers, three with invented figures, one generic, one duplicate."""
    good = ("The tuition fee for B.Tech Computer Science at Sharda University is ₹1,20,000 per year, "
            "and students with HSC GPA 5.0 receive a 50% scholarship.")
    batch = [sample(good), sample(good.replace("receive", "get"), location="page 3"),
             sample("The tuition fee for B.Tech Computer Science is ₹2,00,000 per year.", location="page 4"),
             sample("The application deadline for Sharda University is 15 July 2025.", location="page 5"),
             sample("Students with HSC GPA 5.0 receive a 75% scholarship at Sharda University.",
                    source_file="fees.docx", location="paragraph 3"),
             sample("Studying abroad is a wonderful experience for everyone.", location="page 9"),
             sample("Applicants must apply for the deadline before 30 June 2025 at Sharda University, "
                    "where B.Tech Computer Science costs ₹1,20,000 per year.", location="page 6")]
    scores.score_examples(batch, QualityConfig())
    kept, _ = dedup.deduplicate(batch, 0.8)
    return batch


def test_categories_counts_and_rates_from_real_scoring() -> None:
    report = error_analysis.analyze(realistic_batch())
    assert report["total"] == 7
    assert report["rejected"] == 5 and report["accepted"] == 2
    assert report["acceptance_rate"] == round(2 / 7, 4)
    cats = report["categories"]
    assert cats["hallucinated_figures"]["count"] == 3
    assert cats["hallucinated_figures"]["share_of_rejected"] == 0.6
    assert cats["duplicate"]["count"] == 1
    assert "low_extractive" in cats
    assert cats["unsupported_claims"]["count"] == 4  # the three invented figures and the generic one
    assert list(cats)[:2] == ["unsupported_claims", "hallucinated_figures"]  # most frequent first


def test_worst_examples_name_their_source() -> None:
    report = error_analysis.analyze(realistic_batch())
    worst = report["categories"]["hallucinated_figures"]["worst"]
    assert len(worst) == 3
    scores = [w["scores"]["extractive"] for w in worst]
    assert scores == sorted(scores)
    assert {(w["source_file"], w["location"]) for w in worst} >= {("fees.docx", "paragraph 3")}
    assert all(w["question"] and w["answer"] for w in worst)


def test_distributions_and_recommendations() -> None:
    examples = realistic_batch()
    report = error_analysis.analyze(examples)
    dist = report["score_distributions"]
    assert set(dist) == {"overall", "extractive", "detail", "domain", "faithfulness", "judge"}
    assert dist["judge"]["count"] == 0 and dist["faithfulness"]["count"] == 7
    assert sum(dist["overall"]["buckets"].values()) == 7
    advice = report["recommendations"]
    assert advice[0].startswith("80% of rejects make claims their source does not support (4)")
    assert advice[1].startswith("60% of rejects cite figures or names absent from the source (3)")
    assert "temperature" in advice[0]
    assert report["by_source"]["fees.docx"] == {"accepted": 0, "rejected": 1, "surplus": 0}


def test_empty_dataset_and_all_accepted() -> None:
    report = error_analysis.analyze([])
    assert report["total"] == 0 and report["categories"] == {} and report["recommendations"] == []
    assert "nothing was rejected" in error_summary(report)[-1]


def test_write_report_creates_folders(tmp_path: Path) -> None:
    path = error_analysis.write_report({"total": 1, "note": "₹"}, tmp_path / "a" / "b.json")
    assert json.loads(path.read_text(encoding="utf-8")) == {"total": 1, "note": "₹"}


def store(name: str, examples: list[Example]) -> None:
    with Database(db_path()) as db:
        dataset_id = db.upsert_dataset(name, "mistral", "open-mistral-7b", "create", {})
        db.save_examples(dataset_id, examples)


def test_analyze_errors_command_writes_the_report(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store("uni_guide", realistic_batch())
    extra = tmp_path / "errors.json"
    assert main(["analyze-errors", "uni_guide", "--output", str(extra)]) == 0
    saved = output_root() / "uni_guide" / "uni_guide_errors.json"
    report = json.loads(saved.read_text(encoding="utf-8"))
    assert report["dataset"] == "uni_guide" and report["rejected"] == 5
    assert report["categories"]["hallucinated_figures"]["count"] == 3
    assert json.loads(extra.read_text(encoding="utf-8")) == report
    out = capsys.readouterr().out
    assert "hallucinated_figures" in out and "Recommendations:" in out


def test_analyze_errors_unknown_dataset_says_what_to_do(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["analyze-errors", "nope"]) == 1
    assert "No dataset named 'nope'" in capsys.readouterr().err
