"""config.yaml written back by the menu: comments, order and style kept; bad values never written."""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

import pytest

from src.cli import settings_editor as editor
from src.config import Config, apply_overrides, load_config, parse_config
from src.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project_config(tmp_path: Path) -> Path:
    """A copy of the project's own config.yaml, full of comments."""
    path = tmp_path / "project" / "config.yaml"
    path.parent.mkdir()
    path.write_text((ROOT / "config.yaml").read_text("utf-8"), "utf-8")
    return path


def comments(text: str) -> list[str]:
    return [m.group(0).strip() for m in re.finditer(r"#[^\n]*", text)]


def test_saving_nothing_rewrites_the_file_byte_for_byte(project_config):
    before = project_config.read_text("utf-8")
    editor.save_changes(project_config, {})
    assert project_config.read_text("utf-8") == before


def test_changes_keep_every_comment_the_order_and_the_style(project_config):
    before = project_config.read_text("utf-8")
    config = editor.save_changes(project_config, {
        "provider": "openai", "model": "gpt-4o-mini", "split.ratio": 0.8,
        "quality.thresholds.overall": 0.75, "quality.domain.keywords": {"visa": 0.8},
        "system.timeout": 90.0})
    after = project_config.read_text("utf-8")
    assert comments(after) == comments(before)
    assert 'provider: "openai"           # openai | anthropic' in after  # quotes and column kept
    assert "thresholds: {overall: 0.75, extractive: 0.6" in after  # flow map kept
    assert "keywords: {visa: 0.8}" in after and "timeout: 90 " in after
    changed = [a for a, b in zip(after.splitlines(), before.splitlines()) if a != b]
    assert len(changed) == 6 and len(after.splitlines()) == len(before.splitlines())
    assert (config.provider, config.split.ratio, config.quality.domain.keywords) == (
        "openai", 0.8, {"visa": 0.8})
    assert load_config(project_config) == config


def test_an_invalid_value_is_refused_and_the_file_is_untouched(project_config):
    before = project_config.read_bytes()
    with pytest.raises(ConfigError, match="split.ratio must be between 0.01 and 0.99, got 5"):
        editor.set_value(project_config, "split.ratio", "5")
    with pytest.raises(ConfigError, match="mode must be one of"):
        editor.save_changes(project_config, {"mode": "magic"})
    assert project_config.read_bytes() == before
    assert sorted(p.name for p in project_config.parent.iterdir()) == ["config.yaml"]


def test_an_unknown_key_suggests_the_closest_ones(project_config):
    with pytest.raises(UsageError, match="split.ratoi is not a setting. Did you mean split.ratio"):
        editor.set_value(project_config, "split.ratoi", "0.8")
    with pytest.raises(UsageError, match="is not a setting"):
        editor.check_key("split")  # a section, not a value


def test_set_value_reads_the_typed_text_as_yaml(project_config):
    config = editor.set_value(project_config, "agent.create.personas", "[nurse, pilot]")
    assert config.agent.create.personas == ["nurse", "pilot"]
    config = editor.set_value(project_config, "split.enabled", "false")
    assert config.split.enabled is False
    assert "personas: [nurse, pilot]" in project_config.read_text("utf-8")
    with pytest.raises(ConfigError, match="not a value YAML can read"):
        editor.parse_value("[unclosed")


def test_a_broken_file_is_reported_not_overwritten(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("mode: create\nsplit: [\n", "utf-8")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+.*Edit config.yaml"):
        editor.save_changes(path, {"mode": "identify"})
    assert path.read_text("utf-8") == "mode: create\nsplit: [\n"


def test_a_missing_file_is_created_with_only_the_changes(tmp_path):
    path = tmp_path / "sub" / "config.yaml"
    config = editor.save_changes(path, {"split.ratio": 0.7, "output_name": "x y"})
    assert parse_config(path.read_text("utf-8")) == parse_config("split: {ratio: 0.7}\n"
                                                                 "output_name: x y\n")
    assert config.split.ratio == 0.7


def test_write_text_keeps_the_file_mode(project_config):
    os.chmod(project_config, 0o640)
    editor.write_text(project_config, "mode: create\n")
    assert stat.S_IMODE(project_config.stat().st_mode) == 0o640
    assert project_config.read_text("utf-8") == "mode: create\n"


def test_changed_keys_lists_only_differences():
    old = Config()
    new = apply_overrides(old, {"split.ratio": 0.7, "quality.domain.entities": ["X"]})
    assert editor.changed_keys(old, new) == {"split.ratio": 0.7, "quality.domain.entities": ["X"]}
    assert editor.changed_keys(new, new) == {}
    assert editor.get_value(new, "split.ratio") == 0.7


def test_key_status_never_shows_a_key_and_hides_url_passwords(monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "secret-mistral-key-999")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://bob:hunter2@proxy.example:8443/v1")
    rows = editor.key_status(Config())
    flat = repr(rows)
    assert "secret-mistral-key-999" not in flat and "hunter2" not in flat and "bob" not in flat
    assert ["mistral", "MISTRAL_API_KEY", "set", "(SDK default)"] in rows
    assert ["openai", "OPENAI_API_KEY", "not set", "https://***@proxy.example:8443/v1"] in rows


def test_edit_in_editor_returns_the_edited_copy(monkeypatch, project_config, tmp_path):
    script = tmp_path / "ed.py"
    script.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[1])\n"
                      "p.write_text(p.read_text().replace('ratio: 0.9', 'ratio: 0.6'))\n", "utf-8")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    before = project_config.read_text("utf-8")
    text = editor.edit_in_editor(project_config)
    assert "ratio: 0.6" in text and project_config.read_text("utf-8") == before
    monkeypatch.setenv("EDITOR", f"{tmp_path / 'no-such-editor'}")
    with pytest.raises(UsageError, match="did not run"):
        editor.edit_in_editor(project_config)
    monkeypatch.delenv("EDITOR")
    with pytest.raises(UsageError, match="set EDITOR"):
        editor.edit_in_editor(project_config)
