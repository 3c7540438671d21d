"""The menu's settings: the session's working config, and config.yaml written back with its comments.

Changes are applied to a ruamel.yaml round-trip document (comments, key order, quoting and flow style
survive), the new text is checked with `parse_config` exactly as a run would read it, and only then
written to a temporary file that replaces config.yaml in one step. A bad value never reaches the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from src.cli import console, prompts
from src.config import AGENT_PROVIDERS, KEY_ENV, Config, api_key, apply_overrides, base_url, parse_config
from src.errors import ConfigError, StorageError, UsageError
from src.masking import mask_url
from src.persistence.files import write_text_atomic
from src.providers.llm_client import key_problem


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap the user's long lines
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


# ---------------------------------------------------------------- keys and values

def leaf_values(config: Config) -> dict[str, Any]:
    """Every setting as {dotted key: value}; mappings and lists are single values."""
    values: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        for f in dataclasses.fields(node):
            if f.metadata.get("internal"):
                continue
            value = getattr(node, f.name)
            if dataclasses.is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            else:
                values[f"{prefix}{f.name}"] = value
    walk(config, "")
    return values


def changed_keys(old: Config, new: Config) -> dict[str, Any]:
    """The settings whose value differs between two configs, with the new value."""
    before = leaf_values(old)
    return {key: value for key, value in leaf_values(new).items() if before.get(key) != value}


def get_value(config: Config, dotted: str) -> Any:
    """The value of one dotted key, e.g. get_value(config, "split.ratio")."""
    return leaf_values(config)[check_key(dotted)]


def check_key(dotted: str) -> str:
    """The key itself when it names a setting; else UsageError with the closest names."""
    dotted = dotted.strip()
    keys = list(leaf_values(Config()))
    if dotted in keys:
        return dotted
    close = difflib.get_close_matches(dotted, keys, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else " See config.yaml for every key."
    raise UsageError(f"{dotted or '(empty)'} is not a setting.{hint}")


def parse_value(text: str) -> Any:
    """A value typed by the user, read as YAML: 0.8, true, gpt-4o, [a, b], {k: 1}."""
    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        raise ConfigError(f"{text!r} is not a value YAML can read; quote text that holds "
                          "':' or '#' (for example \"a: b\").") from None


def config_yaml(config: Config) -> str:
    """The whole configuration as YAML text (no secrets live in it)."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True, width=100)


# ---------------------------------------------------------------- writing config.yaml

def _load_document(path: Path) -> CommentedMap:
    if not path.exists():
        return CommentedMap()
    try:
        doc = _yaml().load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc.__class__.__name__}); check that it is a "
                          "readable UTF-8 file.") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}, so it cannot be updated in place. "
                          "Fix it under Settings > Edit config.yaml (or in any editor).") from None
    if doc is None:
        return CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ConfigError(f"{path} must be a mapping of keys to values; fix it in an editor first.")
    return doc


def _styled_like(old: Any, new: Any) -> Any:
    """`new` in the style of `old`: same quotes for text, flow style kept for lists and maps."""
    if isinstance(new, bool) or new is None:
        return new
    if isinstance(new, str) and isinstance(old, str) and type(old) is not str:
        return type(old)(new)  # DoubleQuotedScalarString and friends
    if isinstance(new, float) and isinstance(old, int) and new.is_integer():
        return int(new)
    if isinstance(new, (list, dict)):
        node = CommentedSeq(new) if isinstance(new, list) else CommentedMap(new)
        if _is_flow(old):
            node.fa.set_flow_style()  # `{}` and `[a, b]` stay on their line, with their comment
        return node
    return new


def _is_flow(node: Any) -> bool:
    """True for a list or map written inline ([a, b], {k: v}) or empty."""
    if not isinstance(node, (list, dict)):
        return False
    fa = getattr(node, "fa", None)
    return not node or (fa is not None and bool(fa.flow_style()))


def _set(doc: CommentedMap, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = doc
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = CommentedMap()
        node = node[part]
    node[last] = _styled_like(node.get(last), value)


def updated_text(path: Path, changes: dict[str, Any]) -> tuple[str, Config]:
    """config.yaml's text with `changes` applied, and the Config it parses to (checked)."""
    doc = _load_document(path)
    for dotted, value in changes.items():
        _set(doc, check_key(dotted), value)
    buffer = io.StringIO()
    _yaml().dump(doc, buffer)
    text = buffer.getvalue()
    return text, parse_config(text, str(path))


def write_text(path: Path, text: str) -> Config:
    """Check `text` as a config, then replace `path` with it atomically; returns the new Config."""
    config = parse_config(text, str(path))
    try:
        write_text_atomic(path, text)
    except StorageError as exc:
        raise ConfigError(str(exc)) from None
    return config


def save_changes(path: Path, changes: dict[str, Any]) -> Config:
    """Write `changes` into config.yaml keeping every comment; returns the Config now in the file."""
    text, _ = updated_text(path, changes)
    return write_text(path, text)


def set_value(path: Path, dotted: str, raw: str) -> Config:
    """Set one setting in config.yaml from text the user typed (checked before writing)."""
    return save_changes(path, {check_key(dotted): parse_value(raw)})


# ---------------------------------------------------------------- editor and keys

def editor_command() -> str | None:
    """$VISUAL or $EDITOR, when set."""
    return os.environ.get("VISUAL") or os.environ.get("EDITOR") or None


def edit_in_editor(path: Path, text: str | None = None) -> str:
    """Open a copy of config.yaml (or `text`) in the user's editor; returns the edited text."""
    command = editor_command()
    if not command:
        raise UsageError("No editor configured: set EDITOR (for example EDITOR=nano), or edit "
                         "one value in place.")
    original = text if text is not None else (path.read_text(encoding="utf-8")
                                              if path.exists() else "")
    fd, tmp = tempfile.mkstemp(prefix="config-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(original)
        try:
            subprocess.run([*shlex.split(command), tmp], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise UsageError(f"The editor {command!r} did not run ({exc}); check EDITOR.") from None
        return Path(tmp).read_text(encoding="utf-8")
    finally:
        Path(tmp).unlink(missing_ok=True)


def key_hint(provider: str, config: Config) -> str | None:
    """What to do when an agent provider has no usable key (the client's own rule); else None."""
    return key_problem(provider, config)


def key_status(config: Config) -> list[list[str]]:
    """Per provider: key variable, set / not set (never the key), base URL in use."""
    return [[provider, KEY_ENV[provider], "set" if api_key(provider) else "not set",
             mask_url(base_url(provider, config) or "") or "(SDK default)"]
            for provider in AGENT_PROVIDERS]


# ---------------------------------------------------------------- the menu's settings session

@dataclass
class Session:
    """The menu's working settings, and what config.yaml holds (to know what is unsaved)."""

    path: Path
    config: Config
    saved: Config

    def update(self, overrides: dict[str, Any]) -> None:
        """Change settings for this session (checked like config.yaml)."""
        self.config = apply_overrides(self.config, overrides)

    def unsaved(self) -> dict[str, Any]:
        """Settings changed in this session and not yet in config.yaml."""
        return changed_keys(self.saved, self.config)

    def adopt(self, saved: Config) -> None:
        """Take config.yaml's new content as the session's settings."""
        lost = self.unsaved()
        if lost:
            console.warn(f"Unsaved session changes replaced by the file: {', '.join(lost)}")
        self.config = self.saved = saved


def save(s: Session) -> None:
    """Menu: write this session's changed settings into config.yaml, comments kept."""
    changes = s.unsaved()
    if not changes:
        console.info(f"Nothing to save: {s.path} already holds these settings.")
        return
    s.saved = save_changes(s.path, changes)
    console.success(f"Saved {', '.join(changes)} to {s.path} (its comments are kept).")


def view_config(s: Session) -> None:
    """Menu: the session's settings as YAML, and which are unsaved."""
    console.out(f"# Settings of this session (config file: {s.path})")
    console.out(config_yaml(s.config).rstrip())
    if s.unsaved():
        console.info(f"Not saved to config.yaml yet: {', '.join(s.unsaved())}")


def edit_file(s: Session) -> None:
    """Menu: open config.yaml in $EDITOR (re-opened until valid), else edit one value."""
    if not (editor_command() and sys.stdin.isatty()):
        console.info("No editor to open (set EDITOR and run in a terminal): edit one value here.")
        edit_value(s)
        return
    text = None
    while True:
        text = edit_in_editor(s.path, text)
        try:
            config = write_text(s.path, text)
            break
        except ConfigError as exc:
            console.error(str(exc))
            if not prompts.confirm("Open the editor again to fix it?", default=True):
                console.info(f"{s.path} is unchanged.")
                return
    s.adopt(config)
    console.success(f"Saved {s.path}.")


def edit_value(s: Session) -> None:
    """Menu: set one dotted key in config.yaml, re-asked until the value is valid."""
    key = prompts.ask_until("Setting to change (dotted key, e.g. split.ratio)", check_key)
    console.info(f"Current value: {get_value(s.config, key)!r}")
    saved = prompts.ask_until(f"New value for {key}", lambda raw: set_value(s.path, key, raw))
    value = get_value(saved, key)
    s.saved = saved
    s.update({key: value})
    console.success(f"{key} = {value!r} saved to {s.path}.")


def check_keys(s: Session) -> None:
    """Menu: which API keys are set (never their values) and the base URLs in use."""
    console.out(console.table(key_status(s.config), ["provider", "variable", "key", "base URL"]))
    console.info("Keys come from the environment or .env and are never shown. "
                 "Identify mode needs no key.")
