"""Scoring an existing JSONL file of any supported format (validate --quality)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from src.cli.render import quality_summary
from src.config import Config, DomainProfile, QualityConfig
from src.errors import InputFileError
from src.quality import file_report as quality_report

SOURCE = ("Sharda University charges a tuition fee of ₹1,20,000 per year for B.Tech Computer Science. "
          "Students with HSC GPA 5.0 receive a 50% scholarship on tuition, and halal food is served.")
GOOD = "The B.Tech Computer Science tuition fee at Sharda University is ₹1,20,000 per year."
INVENTED = "The B.Tech Computer Science tuition fee at Sharda University is ₹3,00,000 per year."


def write(tmp_path: Path, records: list, extra: str = "") -> Path:
    path = tmp_path / "data.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


RECORDS = [
    {"instruction": "<s>[INST] What is the B.Tech fee at Sharda? [/INST]", "input": SOURCE,
     "output": GOOD, "context_source": "sharda_fees.txt"},
    {"instruction": "What is the B.Tech fee?", "input": SOURCE, "output": INVENTED},
    {"messages": [{"role": "system", "content": "Answer from the context.\nContext:\n" + SOURCE},
                  {"role": "user", "content": "What is the fee?"},
                  {"role": "assistant", "content": GOOD}]},
    {"system": "You are a helpful assistant.",
     "messages": [{"role": "user", "content": "What is the fee?"},
                  {"role": "assistant", "content": GOOD}]},
    {"contents": [{"role": "user", "parts": [{"text": "What is the fee?"}]},
                  {"role": "model", "parts": [{"text": GOOD}]}]},
    {"conversations": [{"from": "human", "value": "What is the fee?"}, {"from": "gpt", "value": GOOD}]},
]


def test_every_format_is_read_with_its_context(tmp_path: Path) -> None:
    examples, malformed = quality_report.read_examples(write(tmp_path, RECORDS))
    assert malformed == [] and len(examples) == 6
    assert [bool(e.context) for e in examples] == [True, True, True, False, False, False]
    assert examples[0].question == "What is the B.Tech fee at Sharda?"
    assert examples[0].source_file == "sharda_fees.txt" and examples[0].location == "line 1"
    assert examples[2].context == SOURCE
    assert all(e.answer in (GOOD, INVENTED) for e in examples)


def test_report_distribution_threshold_and_malformed_lines(tmp_path: Path) -> None:
    path = write(tmp_path, RECORDS, extra="not json\n[1, 2]\n{\"messages\": []}\n")
    report_path = tmp_path / "report.json"
    report = quality_report.score_jsonl(path, Config(), threshold=0.5, report_path=report_path)
    assert report["examples"] == 6 and report["threshold"] == 0.5
    assert [m["line"] for m in report["malformed"]] == [7, 8, 9]
    assert report["no_source"] == 3
    assert report["categories"]["hallucinated_figures"] == 1
    assert sum(report["distribution"]["overall"]["buckets"].values()) == 6
    below = {b["location"] for b in report["below_threshold"]}
    assert all(b["scores"]["overall"] < 0.5 for b in report["below_threshold"])
    assert "line 1" not in below
    assert json.loads(report_path.read_text(encoding="utf-8")) == report


def test_domain_focus_breakdown_with_a_profile(tmp_path: Path) -> None:
    config = Config(quality=QualityConfig(domain=DomainProfile(
        name="bd-students", keywords={"fee": 0.6, "₹": 0.8, "halal": 1.0},
        entities=["Sharda University"])))
    report = quality_report.score_jsonl(write(tmp_path, RECORDS[:3]), config)
    focus = report["domain_focus"]
    assert focus["profile"] == "bd-students"
    assert focus["term_counts"]["sharda university"] == 3
    assert focus["term_counts"]["₹"] == 3
    assert "halal" not in focus["term_counts"]
    assert focus["focused"] == 3 and focus["without_any_term"] == 0


def test_no_profile_says_how_to_set_one(tmp_path: Path) -> None:
    report = quality_report.score_jsonl(write(tmp_path, RECORDS[:1]), Config())
    assert report["domain_focus"]["profile"] is None
    assert "quality.domain" in report["domain_focus"]["note"]


def test_system_message_context_rules() -> None:
    assert quality_report.context_from_system("<context>Fees: ₹5</context> Be brief.") == "Fees: ₹5"
    assert quality_report.context_from_system("Be brief.") == ""
    long_text = "word " * 80
    assert quality_report.context_from_system(long_text) == long_text


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        quality_report.score_jsonl(tmp_path / "absent.jsonl", Config())


def test_summary_lines_are_readable(tmp_path: Path) -> None:
    report = quality_report.score_jsonl(write(tmp_path, RECORDS, extra="oops\n"), Config(), 0.5)
    text = "\n".join(quality_summary(report))
    assert "Quality of 6 examples (threshold 0.50)" in text
    assert "hallucinated_figures 1" in text
    assert "1 unreadable lines (first: line 7" in text
    assert "quality.domain" in text
