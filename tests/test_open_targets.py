"""The open targets: Nova lines against the published schema, the validator's new rules with line
numbers, exact Qwen 3 token counts, and a whole `generate` for each new provider."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from src.main import main
from src.models import Example, Turn
from src.targets import formatter, nova, tokens
from src.targets.validator import validate_file, validate_records

# bedrock-conversation-2024, as the Nova user guide describes it [N1] (text content; images and
# videos are S3 references we never write): written from the documentation, not from our code.
NOVA_SCHEMA = {
    "type": "object", "required": ["schemaVersion", "messages"],
    "properties": {
        "schemaVersion": {"type": "string"},
        "system": {"type": "array", "items": {"type": "object", "required": ["text"],
                                               "properties": {"text": {"type": "string"}}}},
        "messages": {"type": "array", "minItems": 2, "items": {
            "type": "object", "required": ["role", "content"],
            "properties": {"role": {"enum": ["user", "assistant"]},
                           "content": {"type": "array", "minItems": 1, "items": {
                               "type": "object", "required": ["text"],
                               "properties": {"text": {"type": "string", "minLength": 1}}}}}}}}}


def sample(i: int, turns: int = 1) -> Example:
    pairs = []
    for t in range(turns):
        pairs += [Turn("user", f"Question {i}.{t} about fees?"), Turn("assistant", f"Answer {i}.{t}.")]
    return Example(turns=pairs, system="Answer from the handbook.")


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_nova_lines_match_the_published_schema_and_alternate() -> None:
    for i in range(20):
        record = formatter.format_example(sample(i, turns=1 + i % 3), "amazon")
        jsonschema.validate(record, NOVA_SCHEMA)
        roles = [m["role"] for m in record["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        assert record["schemaVersion"] == "bedrock-conversation-2024"


def test_nova_reserved_words_tools_and_order_are_errors_with_line_numbers(tmp_path: Path) -> None:
    good = [formatter.format_example(sample(i), "amazon") for i in range(10)]
    bad = [dict(good[0]) for _ in range(4)]
    bad[0] = {**good[0], "messages": [{"role": "user", "content": [{"text": "User: hi"}]},
                                      {"role": "assistant", "content": [{"text": "Bot: [EOS]"}]}]}
    bad[1] = {**good[0], "system": [{"text": "Thought: be brief"}]}
    bad[2] = {**good[0], "messages": list(reversed(good[0]["messages"]))}
    bad[3] = {**good[0], "messages": [good[0]["messages"][0], {
        "role": "assistant", "content": [{"toolUse": {"name": "x"}}]}]}
    path = write(tmp_path / "nova.jsonl", good + bad)
    report = validate_file(path, "amazon", "nova-2-lite")
    by_line = {i.line: i for i in report.errors if i.line}
    assert by_line[11].rule == "reserved" and "User:" in by_line[11].message
    assert "Bot:" in str([i.message for i in report.errors if i.line == 11])
    assert by_line[12].rule == "reserved" and "Thought:" in by_line[12].message
    assert by_line[13].rule == "order"
    assert by_line[14].rule == "tools" and "not accepted for fine-tuning" in by_line[14].message
    assert report.error_counts["min_examples"] == 1  # 14 < Nova 2 Lite's 200
    micro = validate_file(write(tmp_path / "ok.jsonl", good), "amazon", "nova-micro")
    assert micro.ok and not micro.exact and micro.examples == 10


def test_nova_reserved_list_is_the_aws_validators() -> None:
    assert nova.reserved_in("Ask the ASSISTANT: now <video>") == ["ASSISTANT:", "<video>"]
    assert nova.reserved_in("a user: lower case is fine") == []


def test_together_and_fireworks_rules(tmp_path: Path) -> None:
    record = formatter.format_example(sample(0), "together")
    weighted = {**record, "weight": 0.5}
    negative = {**record, "weight": "x"}
    late_system = {"messages": record["messages"][1:] + [record["messages"][0]]}
    report = validate_records([record] * 5 + [weighted, negative, late_system], "together",
                              "Qwen/Qwen3-8B")
    lines = {i.line: i.rule for i in report.errors}
    assert 6 not in lines and lines[7] == "weight" and lines[8] == "order"
    assert report.exact and report.tokenizer.startswith("Qwen 3")
    fireworks = validate_records([record, {**record, "weight": 1}], "fireworks",
                                 "accounts/fireworks/models/qwen3-8b")
    assert fireworks.error_counts == {"unknown_key": 1, "min_examples": 1}  # no top-level weight; 2 < 3


def test_open_trainer_record_rules(tmp_path: Path) -> None:
    trl = formatter.format_example(sample(0, 2), "trl")
    broken = {"prompt": trl["prompt"], "completion": trl["completion"] * 2}
    report = validate_records([trl, broken], "llama", "llama-3.1-8b", fmt="trl",
                              structure_only=True)
    assert {i.line for i in report.errors} == {2} and report.structure_only
    alpaca = formatter.format_example(sample(0), "alpaca")
    no_history = {k: v for k, v in alpaca.items() if k != "history"}
    copied = {**alpaca, "input": "As the handbook says: Answer 0.0. with more words here",
              "output": "Answer 0.0. with more words here"}
    tokens_row = formatter.format_example(sample(0), "mistral_instruct",
                                          formatter.FormatOptions(control_tokens=True))
    report = validate_records([alpaca, no_history, copied], "llama", "llama-3.1-8b", fmt="alpaca")
    assert [(i.line, i.rule) for i in report.warnings if i.line] == [
        (2, "schema"), (3, "answer_in_prompt")]
    raw = validate_records([tokens_row] * 3, "llama", "llama-3.1-8b", fmt="mistral_instruct")
    assert raw.warning_counts["control_tokens"] == 1 and raw.ok


@pytest.mark.parametrize("text", ["Plain English question about fees?", "数据集 和 中文 文本。",
                                  "Tabs\tand\r\nCRLF", "emoji 😀👍🏽 and code `x = 1`", " leading"])
def test_qwen3_counts_are_the_rendered_chat_template(text: str) -> None:
    import quicktok

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text},
                {"role": "assistant", "content": text[::-1]}]
    rendered = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    expected = len(quicktok.get_encoding("qwen3").encode(rendered, allowed_special="all"))
    record = {"messages": messages}
    assert tokens.count_example_tokens(record, "together", "Qwen/Qwen3-8B") == expected
    assert tokens.count_example_tokens(record, "fireworks", "accounts/fireworks/models/qwen3-8b") \
        == expected
    assert tokens.is_exact("together", "Qwen/Qwen3-8B")
    assert not tokens.is_exact("amazon", "nova-lite")


@pytest.mark.parametrize("provider,model", [
    ("amazon", "amazon.nova-lite-v1:0:300k"), ("together", "Qwen/Qwen3-8B"),
    ("fireworks", "accounts/fireworks/models/llama-v3p1-8b-instruct"),
    ("google", "gemini-3.5-flash")])
def test_generate_for_an_open_target_writes_files_validate_accepts(provider, model, capsys,
                                                                   tmp_path: Path) -> None:
    from tests.pipeline_helpers import write_config

    config = write_config(tmp_path, mode="identify", output_name=f"open_{provider}")
    assert main(["generate", "--config", str(config), "--provider", provider, "--model", model,
                 "--input", "demo/samples", "--yes", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for split in ("train", "validation"):
        path = result["files"][split]
        assert main(["validate", path, "--provider", provider, "--model", model,
                     "--split", split]) == 0, capsys.readouterr()
