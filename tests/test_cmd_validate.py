"""`validate`, `tokens` and `models` commands: exit codes, human and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

from src.main import main
from src.models import Example, Turn
from src.targets import formatter


def dataset(path: Path, n: int = 12, fmt: str = "openai", extra: list[str] | None = None) -> Path:
    lines = [json.dumps(formatter.format_example(
        Example(turns=[Turn("user", f"Question {i}?"), Turn("assistant", f"Answer {i}.")]), fmt))
        for i in range(n)]
    path.write_text("\n".join(lines + (extra or [])) + "\n", encoding="utf-8")
    return path


def test_valid_file_exits_0_and_prints_summary(tmp_path, capsys):
    code = main(["validate", str(dataset(tmp_path / "ok.jsonl")), "--provider", "openai",
                 "--model", "gpt-4o-mini"])
    out = capsys.readouterr().out
    assert code == 0 and "VALID" in out and "12 examples" in out and "exact" in out
    assert "2027-01-06" in out  # closing target: lifecycle warning in the output


def test_invalid_file_exits_1_with_line_and_rule(tmp_path, capsys):
    path = dataset(tmp_path / "bad.jsonl", extra=['{"messages": [{"role": "user", "content": "x"}]}'])
    code = main(["validate", str(path), "--provider", "openai", "--model", "gpt-4o", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and not data["ok"]
    assert [13, "no_assistant"] == data["errors"][0][:2]


def test_unusable_input_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing.jsonl"), "--provider", "openai",
                 "--model", "gpt-4o"]) == 2
    assert "no such file" in capsys.readouterr().err
    path = dataset(tmp_path / "ok.jsonl")
    assert main(["validate", str(path), "--provider", "openai", "--model", "gpt-9"]) == 2
    assert "Valid models" in capsys.readouterr().err


def test_gemini_counts_are_labeled_estimate(tmp_path, capsys):
    path = dataset(tmp_path / "g.jsonl", fmt="google")
    assert main(["validate", str(path), "--provider", "google", "--model", "gemini-2.5-flash"]) == 0
    assert "ESTIMATE" in capsys.readouterr().out
    assert main(["tokens", str(path), "--provider", "google", "--model", "gemini-2.5-flash"]) == 0
    out = capsys.readouterr().out
    assert "tokens (estimate)" in out and "Total:" in out


def test_tokens_json_per_example(tmp_path, capsys):
    path = dataset(tmp_path / "m.jsonl", n=3, fmt="mistral")
    assert main(["tokens", str(path), "--provider", "mistral", "--model", "open-mistral-7b",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["line"] for r in data["examples"]] == [1, 2, 3]
    assert data["total_tokens"] == sum(r["tokens"] for r in data["examples"])
    assert data["token_counts"] == "exact"


def test_models_lists_limits_prices_and_status(capsys):
    assert main(["models", "--provider", "openai"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4o-mini-2024-07-18" in out and "65,536" in out and "$3" in out and "retired" in out
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    haiku = next(m for m in data["models"] if m["provider"] == "anthropic")
    assert haiku["status"] == "retired" and haiku["max_examples"] == 10_000
    assert data["as_of"] == "2026-11-21" and "A1" in data["sources"]
