"""Catalog: lookups, sources on every number, lifecycle against dates, size caps, agent prices."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from src.errors import ConfigError
from src.providers import prices
from src.targets import catalog
from src.targets.target import TARGETS, get_target

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "provider_specs.md"


def test_every_entry_has_status_dates_sources_and_as_of():
    for spec in catalog.MODELS:
        assert spec.as_of in ("2026-11-21", catalog.CHECKED), spec.key
        assert spec.sources.get("max_tokens_per_example"), spec.key
        for tags in spec.sources.values():
            for tag in re.findall(r"[A-Z]+\d*", tags.split(" ")[0]):
                assert tag in catalog.SOURCES, (spec.key, tag)
        assert catalog.status(spec) in ("active", "closing", "deprecated", "retired")


def test_numbers_match_the_reference_when_present():
    if not REFERENCE.exists():
        pytest.skip("../shared/reference/provider_specs.md not present")
    text = REFERENCE.read_text(encoding="utf-8")
    for snippet in ("| gpt-4o-mini-2024-07-18 | 65,536", "| Max tokens per record | 32,000",
                    "| gemini-2.5-flash | 131,072", "gpt-3.5-turbo-0125 / -1106 | 16,385",
                    "| Minimum records | 32", "| Max training records | 10,000"):
        assert snippet in text
    assert catalog.get_model("openai", "gpt-4o-mini").max_tokens_per_example == 65_536
    assert catalog.get_model("anthropic", "claude-3-haiku").max_tokens_per_example == 32_000
    assert catalog.get_model("openai", "gpt-3.5-turbo").max_tokens_per_example == 16_385


def test_get_model_accepts_aliases_snapshots_and_ft_ids():
    assert catalog.get_model("openai", "gpt-4o").model == "gpt-4o-2024-08-06"
    assert catalog.get_model("openai", "GPT-4O-MINI-2024-07-18").model == "gpt-4o-mini-2024-07-18"
    assert catalog.get_model("openai", "ft:gpt-4o-mini-2024-07-18:acme:x:abc").model == \
        "gpt-4o-mini-2024-07-18"
    assert catalog.get_model("mistral", "open-mistral-nemo").tokenizer == "tekken"
    with pytest.raises(ConfigError, match="Valid models: .*llama-3.1-405b"):
        catalog.get_model("llama", "llama-2-7b")
    with pytest.raises(ConfigError, match="Unknown provider"):
        catalog.get_model("cohere", "command")


@pytest.mark.parametrize("provider,model,today,expected", [
    ("openai", "gpt-4o-mini", date(2026, 11, 22), "closing"),
    ("openai", "gpt-4o-mini", date(2027, 1, 7), "retired"),
    ("openai", "gpt-3.5-turbo", date(2026, 10, 22), "closing"),
    ("openai", "gpt-3.5-turbo", date(2026, 10, 23), "retired"),
    ("anthropic", "claude-3-haiku", date(2026, 9, 9), "closing"),
    ("anthropic", "claude-3-haiku", date(2026, 9, 10), "retired"),
    ("mistral", "open-mistral-7b", date(2026, 11, 22), "deprecated"),
    ("google", "gemini-2.0-flash", date(2026, 11, 22), "deprecated"),
    ("google", "gemini-2.5-flash", date(2026, 11, 22), "active")])
def test_lifecycle_status_follows_dates(provider, model, today, expected):
    assert catalog.status(catalog.get_model(provider, model), today) == expected


def test_lifecycle_warning_names_alternatives():
    warning = catalog.lifecycle_warning("openai", "gpt-4.1-nano", date(2026, 11, 22))
    assert warning and "2026-10-23" in warning and "Open instead: together:" in warning
    assert "export NAME --format trl|llamafactory|axolotl|hf" in warning
    assert "still formatted and validated" in warning
    assert catalog.lifecycle_warning("llama", "llama-3.1-8b") is None


def test_size_cap_says_what_and_why():
    decision = catalog.validate_dataset_size(20_000, "anthropic", "claude-3-haiku")
    assert (decision.size, decision.capped) == (10_000, True)
    assert "20,000" in decision.message and "10,000" in decision.message and "[A1]" in decision.message
    fine = catalog.validate_dataset_size(500, "openai", "gpt-4o")
    assert (fine.size, fine.capped) == (500, False)
    small = catalog.validate_dataset_size(5, "openai", "gpt-4o")
    assert small.warnings and "at least 10" in small.warnings[0]


def test_size_cap_by_training_tokens(monkeypatch):
    import dataclasses
    spec = dataclasses.replace(catalog.get_model("llama", "llama-3.1-8b"), max_training_tokens=1_000_000)
    monkeypatch.setitem(catalog._INDEX, ("llama", "llama-3.1-8b"), spec)  # data, not our code
    decision = catalog.validate_dataset_size(5_000, "llama", "llama-3.1-8b", tokens_per_example=500)
    assert decision.size == 2_000 and "1,000,000 training tokens" in decision.message


def test_agent_prices():
    assert prices.agent_price("openai", "gpt-4o-mini") == (0.15, 0.60)
    assert prices.agent_price("anthropic", "claude-haiku-4-5-20251001") == (1.00, 5.00)
    assert prices.agent_price("openai", "no-such-model") is None
    for key, (inp, out, source, as_of) in prices.AGENT_PRICE_SOURCES.items():
        assert inp > 0 and out > 0 and source and as_of, key


def test_targets_interface():
    assert set(TARGETS) == {"openai", "anthropic", "google", "mistral", "llama", "amazon",
                            "together", "fireworks"}
    openai = get_target("openai")
    assert "gpt-4o-2024-08-06" in openai.get_models()
    assert openai.get_token_limit("gpt-3.5-turbo") == 16_385
    assert openai.get_max_training_tokens("gpt-4o") is None
    assert openai.training_price("gpt-4o-mini") == 3.0
    assert get_target("llama").export_formats("llama-3.1-8b") == [
        "llama", "mistral_instruct", "alpaca", "sharegpt", "trl", "llamafactory", "axolotl",
        "parquet", "hf"]
    assert get_target("google").export_formats("gemini-2.5-pro") == ["google"]
    life = get_target("anthropic").lifecycle("claude-3-haiku")
    assert life["status"] == "retired" and life["shutdown"] == "2026-09-10" and life["warning"]


def test_target_validate_dataset_takes_examples_records_or_path(tmp_path):
    from src.models import Example, Turn

    examples = [Example(turns=[Turn("user", f"q{i}"), Turn("assistant", f"a{i}")]) for i in range(12)]
    target = get_target("openai")
    assert target.validate_dataset(examples, "gpt-4o").ok
    records = [target.format_example(e) for e in examples]
    assert target.validate_dataset(records, "gpt-4o").examples == 12
    path = tmp_path / "d.jsonl"
    import json
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert target.validate_dataset(str(path), "gpt-4o").ok


def test_every_closing_target_names_open_alternatives_by_their_catalog_names():
    closing = [s for s in catalog.MODELS if not catalog.is_open(s)]
    assert {s.provider for s in closing} == {"openai", "anthropic", "mistral", "google"}
    for spec in closing:
        assert spec.alternatives, spec.key
        for key in spec.alternatives:
            provider, _, model = key.partition(":")
            alternative = catalog.get_model(provider, model)
            assert alternative.key == key and catalog.is_open(alternative), (spec.key, key)
            assert key in catalog.lifecycle_warning(spec.provider, spec.model)


@pytest.mark.parametrize("provider,model,job_model,tokenizer,limit", [
    ("amazon", "nova-micro", "amazon.nova-micro-v1:0:128k", "estimate_nova", 32_000),
    ("amazon", "amazon.nova-2-lite-v1:0", "amazon.nova-2-lite-v1:0:256k", "estimate_nova", 32_000),
    ("google", "gemini-3.5-flash", "gemini-3.5-flash", "estimate_gemini", 131_072),
    ("together", "meta-llama/meta-llama-3.1-8b-instruct-reference",
     "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "llama3", 131_072),
    ("together", "Qwen/Qwen3-8B", "Qwen/Qwen3-8B", "qwen3", 40_960),
    ("fireworks", "accounts/fireworks/models/qwen3-8b", "accounts/fireworks/models/qwen3-8b",
     "qwen3", 40_960)])
def test_open_targets_carry_what_a_trainer_needs(provider, model, job_model, tokenizer, limit):
    spec = catalog.get_model(provider, model)
    assert (spec.job_model, spec.tokenizer, spec.max_tokens_per_example) == \
        (job_model, tokenizer, limit)
    assert spec.service and catalog.is_open(spec) and spec.as_of == catalog.CHECKED
    assert spec.training_price_per_1m is None or "UNCONFIRMED" in spec.price_note


def test_nova_limits_and_nova_2_rules():
    micro = catalog.get_model("amazon", "nova-micro")
    assert (micro.min_examples, micro.max_examples, micro.epochs) == (8, 20_000, (1, 5, 2))
    nova2 = catalog.get_model("amazon", "nova-2-lite")
    assert (nova2.min_examples, nova2.validation_set) == (200, False)
    assert "[N3]" in nova2.note or "N3" in nova2.sources["min_examples"]


def test_providers_with_open_targets_come_first():
    order = catalog.providers_open_first(date(2026, 12, 5))
    closed = ["openai", "anthropic", "mistral"]
    assert order[-3:] == closed and set(order[:-3]) == {"google", "llama", "amazon", "together",
                                                         "fireworks"}
    google = catalog.models_open_first("google", date(2026, 12, 5))
    assert google[-1].model == "gemini-2.0-flash"
