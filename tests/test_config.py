"""config.yaml loading: defaults, every kind of bad value, hostile files, flag overrides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from src.config import PROJECT_ROOT, Config, apply_overrides, load_config, parse_config
from src.errors import ConfigError


def test_shipped_config_yaml_loads_and_matches_defaults_it_documents() -> None:
    config = load_config(PROJECT_ROOT / "config.yaml")
    assert (config.provider, config.model) == ("llama", "llama-3.1-8b")  # open weights
    assert config.split.ratio == 0.9
    assert config.quality.weights.extractive == 0.4
    assert config.system.rate_limit.requests_per_minute == 500


def test_empty_file_gives_defaults() -> None:
    assert parse_config("").to_dict() == Config().to_dict()


@pytest.mark.parametrize("text, message", [
    ("split:\n  ratio: 1.5\n", "split.ratio must be between 0.01 and 0.99, got 1.5"),
    ("mode: bogus\n", "mode must be one of create, identify, hybrid, free; got 'bogus'"),
    ("dataset_size: ten\n", "dataset_size must be a number (whole), got 'ten'"),
    ("dataset_size: 2.5\n", "dataset_size must be a number (whole), got 2.5"),
    ("split:\n  enabled: maybe\n", "split.enabled must be true or false, got 'maybe'"),
    ("agent:\n  create:\n    personas: nobody\n", "agent.create.personas must be a list"),
    ("splitt: {}\n", "unknown key splitt"),
    ("system:\n  rate_limit:\n    rpm: 5\n", "unknown key system.rate_limit.rpm"),
    ("system:\n  base_urls: {foo: 'http://x'}\n", "system.base_urls.foo is not a provider"),
    ("- a\n- b\n", "must be a mapping of keys to values"),
    ("quality: {thresholds: {faithfulness: 2}}\n",
     "quality.thresholds.faithfulness must be between 0 and 1, got 2"),
    ("quality: {decontaminate: evals.jsonl}\n", "quality.decontaminate must be a list"),
    ("privacy: {redact_pii: true}\nagent: {identify: {use_llm: true}}\n",
     "privacy.redact_pii and agent.identify.use_llm cannot both be on"),
    ("split: [1, 2]\n", "split must be a mapping"),
])
def test_bad_values_name_the_key_the_value_and_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert message in str(info.value)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("mode: x\nprovider: y\nsplit: {ratio: 7}\n")
    assert "3 problem(s)" in str(info.value)


def test_yaml_syntax_error_gives_line_number() -> None:
    with pytest.raises(ConfigError, match="line 2"):
        parse_config("mode: create\n  bad: [\n")


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(ConfigError, match="alias bomb"):
        parse_config("\n".join(lines))


def test_python_object_tags_are_refused() -> None:
    with pytest.raises(ConfigError):
        parse_config("mode: !!python/object/apply:os.system ['echo hacked']\n")


def test_overrides_apply_and_are_checked() -> None:
    config = apply_overrides(Config(), {"split.ratio": 0.8, "mode": "create", "model": None})
    assert (config.split.ratio, config.mode, config.model) == (0.8, "create", Config().model)
    with pytest.raises(ConfigError, match="dataset_size must be between"):
        apply_overrides(Config(), {"dataset_size": 0})


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_binary_config_file_is_refused_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(path)


def test_malformed_config_exits_2_with_one_message_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("split:\n  ratio: 1.5\n")
    result = subprocess.run([sys.executable, "-m", "src.main", "generate", "--config", str(path)],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 2
    assert "split.ratio must be between 0.01 and 0.99, got 1.5" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_paths_the_user_types_expand_home_and_start_at_the_project() -> None:
    from src.config import project_path

    assert project_path("~/docs") == Path.home() / "docs"
    assert project_path("input_files") == PROJECT_ROOT / "input_files"
    assert project_path("/tmp/x") == Path("/tmp/x")
