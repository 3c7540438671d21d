"""Per target: every format the formatter writes passes; each broken rule fails on its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from src.config import OPEN_FORMATS
from src.models import Example, Turn
from src.targets import catalog, formatter, validator

TARGETS = [("openai", "gpt-4o-mini"), ("anthropic", "claude-3-haiku"), ("google", "gemini-2.5-flash"),
           ("mistral", "open-mistral-7b"), ("llama", "llama-3.1-8b"), ("mistral", "open-mistral-nemo"),
           ("openai", "gpt-3.5-turbo"), ("google", "gemini-2.5-pro")]


def example(i: int = 0, turns: int = 1) -> Example:
    return Example(turns=[t for k in range(turns) for t in (
        Turn("user", f"Question {i}.{k} about fees?"), Turn("assistant", f"Answer {i}.{k}: ₹1,50,000."))],
        system="Answer from the context.", context="Fees: ₹1,50,000", source_file="fees.pdf")


def records(fmt: str, n: int = 40) -> list[dict]:
    return [formatter.format_example(example(i, 1 + i % 3), fmt) for i in range(n)]


def write(path: Path, lines: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n"
                            for x in lines), encoding="utf-8")
    return path


def errors_at(report: validator.ValidationReport) -> set[tuple[int, str]]:
    return {(i.line, i.rule) for i in report.errors}


@pytest.mark.parametrize("provider,model", TARGETS)
def test_every_written_format_is_valid(tmp_path, provider, model):
    spec = catalog.get_model(provider, model)
    fmts = [formatter.native_format(provider)] + (list(OPEN_FORMATS) if spec.open_weight else [])
    for fmt in fmts:
        report = validator.validate_file(write(tmp_path / f"{fmt}.jsonl", records(fmt)), provider, model)
        assert report.ok, (fmt, report.errors[:3])
        assert report.format == fmt and report.examples == 40 and report.total_tokens > 0


def _broken(provider: str) -> dict[str, dict]:
    """One line breaking each rule, in the provider's own format."""
    u, a = {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}
    if provider == "google":
        U = {"role": "user", "parts": [{"text": "q"}]}
        M = {"role": "model", "parts": [{"text": "a"}]}
        return {"schema": {"systemInstruction": {"parts": [{"text": "s"}]}},
                "unknown_key": {"contents": [U, M], "id": 7},
                "role": {"contents": [{"role": "assistant", "parts": [{"text": "q"}]}, M]},
                "empty_content": {"contents": [U, {"role": "model", "parts": [{"text": " "}]}]},
                "no_assistant": {"contents": [U]}}
    if provider == "anthropic":
        return {"schema": {"messages": [u]}, "unknown_key": {"messages": [u, a], "id": 1},
                "role": {"messages": [{"role": "system", "content": "s"}, u, a]},
                "order": {"messages": [a, u, a]}, "empty_content": {"messages": [u, {**a, "content": ""}]}}
    cases = {"schema": {"messages": []}, "unknown_key": {"messages": [u, a], "id": 1},
             "role": {"messages": [{"role": "bot", "content": "q"}, a]},
             "empty_content": {"messages": [u, {**a, "content": ""}]},
             "no_assistant": {"messages": [u, {**a, "weight": 0}]},
             "weight": {"messages": [u, {**a, "weight": 2}]}}
    if provider == "mistral":
        cases["order"] = {"messages": [u, a, u]}
    if provider == "llama":
        cases["order"] = {"messages": [u, u, a]}
    return cases


@pytest.mark.parametrize("provider,model", TARGETS[:5])
def test_each_broken_rule_is_reported_on_its_line(tmp_path, provider, model):
    good = records(formatter.native_format(provider), 40)
    for rule, bad in _broken(provider).items():
        report = validator.validate_file(write(tmp_path / "d.jsonl", good[:20] + [bad] + good[20:]),
                                         provider, model)
        assert not report.ok and (21, rule) in errors_at(report), (rule, report.errors)
        message = next(i.message for i in report.errors if i.rule == rule)
        assert message.startswith("line 21") and ":" in message


def test_json_blank_and_encoding_errors_carry_line_numbers(tmp_path):
    path = tmp_path / "d.jsonl"
    good = [json.dumps(r) for r in records("openai", 12)]
    path.write_bytes(("\n".join(good[:3] + ["", "{not json"] + good[3:]) + "\n").encode() +
                     b'{"messages": "\xff"}\n')
    report = validator.validate_file(path, "openai", "gpt-4o")
    assert {(4, "json"), (5, "json"), (15, "encoding")} <= errors_at(report)


def test_counts_file_level_rules_and_lifecycle(tmp_path):
    few = validator.validate_records(records("anthropic", 5), "anthropic", "claude-3-haiku")
    assert (0, "min_examples") in errors_at(few)
    assert any(i.rule == "lifecycle" and "2026-09-10" in i.message for i in few.warnings)
    val = validator.validate_records(records("anthropic", 1001), "anthropic", "claude-3-haiku",
                                     split="validation")
    assert (0, "max_examples") in errors_at(val)
    gemini = validator.validate_records(records("google", 30), "google", "gemini-2.5-flash")
    assert gemini.ok and not any(i.rule == "lifecycle" for i in gemini.warnings)
    assert any(i.rule == "min_examples" for i in gemini.warnings)  # recommended ~100


def test_token_limit_truncate_vs_reject_and_estimate_labels():
    long = {"messages": [{"role": "user", "content": "word " * 70_000},
                         {"role": "assistant", "content": "ok"}]}
    openai = validator.validate_records([long] + records("openai", 12), "openai", "gpt-4o-mini")
    assert openai.ok and any(i.line == 1 and i.rule == "tokens" and "truncated" in i.message
                             for i in openai.warnings)
    mistral = validator.validate_records([long] + records("mistral", 12), "mistral", "mistral-large-2407")
    assert (1, "tokens") in errors_at(mistral) and mistral.over_limit == 1
    huge = {"contents": [{"role": "user", "parts": [{"text": "word " * 140_000}]},
                         {"role": "model", "parts": [{"text": "ok"}]}]}
    gemini = validator.validate_records([huge], "google", "gemini-2.5-pro")
    assert gemini.to_dict()["token_counts"] == "estimate"
    assert any("estimated tokens" in i.message for i in gemini.warnings)


def test_report_to_dict_and_cost(tmp_path):
    report = validator.validate_records(records("openai", 20), "openai", "gpt-4o-mini")
    data = report.to_dict()
    assert data["ok"] and data["examples"] == 20 and data["token_counts"] == "exact"
    assert data["training_cost_per_epoch_usd"] == round(data["total_tokens"] * 3.0 / 1e6, 4)


def test_file_size_limit(tmp_path):
    spec = catalog.get_model("google", "gemini-2.5-flash")
    checker = validator._Checker(validator._new_report(spec, "google", "gemini-2.5-flash", "google",
                                                       "train"), spec)
    validator._size_rule(checker, 2 * catalog.GB)
    assert (0, "file_size") in errors_at(checker.r)


def test_mistral_lines_agree_with_mistral_common():
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    from src.targets.tokens import mistral_tokenizer

    tok = mistral_tokenizer("mistral_v3")
    cases = [[{"role": "user", "content": "q"}],  # ends with user
             [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]]  # empty answer
    for messages in cases:
        with pytest.raises(Exception):
            tok.encode_chat_completion(ChatCompletionRequest.from_openai(messages))
        assert not validator.validate_records([{"messages": messages}], "mistral", "open-mistral-7b").ok


def test_unknown_model_and_missing_file():
    from src.errors import ConfigError, InputFileError

    with pytest.raises(ConfigError, match="Valid models: .*gemini-2.5-pro"):
        validator.validate_records([], "google", "gemini-9")
    with pytest.raises(InputFileError):
        validator.validate_file("/nonexistent/x.jsonl", "openai", "gpt-4o")


@pytest.mark.parametrize("model", ["open-mistral-7b", "open-mistral-nemo", "open-mixtral-8x7b"])
def test_mistral_token_totals_equal_mistral_common(tmp_path, model):
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    from src.targets.tokens import mistral_tokenizer

    lines = records("mistral", 30) + [{"messages": [
        {"role": "system", "content": "  Spaced  system\tprompt "},
        {"role": "user", "content": "a  b ▁c\n d "}, {"role": "assistant", "content": " x  y  "}]}]
    tok = mistral_tokenizer(catalog.get_model("mistral", model).tokenizer)
    expected = [len(tok.encode_chat_completion(ChatCompletionRequest.from_openai(r["messages"])).tokens)
                for r in lines]
    report = validator.validate_file(write(tmp_path / "m.jsonl", lines), "mistral", model)
    assert report.ok and report.total_tokens == sum(expected)
    assert report.max_example_tokens == max(expected)
