"""`python -m src.main` in a real pseudo-terminal: read the screen, choose entries, exit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from src.cli import menu
from src.config import EXPORT_FORMATS, KEY_ENV, load_config
from src.targets import catalog
from tests.conftest import KEY_VARS
from tests.test_menu import needs_pipeline

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
MAIN_PROMPT = f"Choose 1-{len(menu.ENTRIES)}: "


@pytest.fixture
def screen(isolated_home: Path):
    """The menu running in a pseudo-terminal with its own data folder and no API keys."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env.update(DATASET_BUILDER_HOME=str(isolated_home), NO_COLOR="1", DATASET_BUILDER_NO_DOTENV="1",
               PYTHONDONTWRITEBYTECODE="1")
    python = str(PYTHON if PYTHON.exists() else sys.executable)
    child = pexpect.spawn(python, ["-m", "src.main"], cwd=str(ROOT), env=env, encoding="utf-8",
                          timeout=30, dimensions=(60, 220))
    yield child
    child.close(force=True)


@pytest.fixture
def pipeline_ready() -> None:
    needs_pipeline()  # before the terminal is opened, so a skip costs nothing


def choose(child: pexpect.spawn, answer: str, then: str) -> str:
    """Type an answer and wait for `then`; returns what the screen showed in between."""
    child.sendline(answer)
    child.expect_exact(then)
    return child.before


def test_menu_in_a_terminal_settings_keys_ctrl_c_and_exit(screen):
    config = load_config()
    screen.expect_exact(MAIN_PROMPT)
    assert "=== Fine-Tuning Dataset Builder ===" in screen.before
    assert "1. Configure Dataset" in screen.before and "6. Exit" in screen.before
    choose(screen, "5", "Choose 1-6: ")  # Settings
    shown = choose(screen, "4", "Choose 1-6: ")  # Check API keys
    assert f"{KEY_ENV[config.provider]}" in shown and "not set" in shown
    screen.sendintr()  # Ctrl-C at the Settings prompt goes back to the main menu
    screen.expect_exact("Back.")
    screen.expect_exact(MAIN_PROMPT)
    shown = choose(screen, "3", MAIN_PROMPT)  # statistics with no dataset yet
    assert "No datasets yet" in shown
    shown = choose(screen, "1", "Choose 1-9: ")  # Configure shows the current target
    assert f"Target {config.provider}/{config.model}" in shown
    choose(screen, "9", MAIN_PROMPT)
    screen.sendline("6")
    screen.expect_exact("Goodbye.")
    screen.expect(pexpect.EOF)
    screen.wait()
    assert screen.exitstatus == 0


def test_menu_in_a_terminal_configure_generate_stats_export(pipeline_ready, screen, isolated_home):
    openai = catalog.providers_open_first().index("openai") + 1
    mini = [m.model for m in catalog.models_open_first("openai")].index("gpt-4o-mini-2024-07-18") + 1
    screen.expect_exact(MAIN_PROMPT)
    choose(screen, "1", "Choose 1-9: ")
    choose(screen, "7", "Dataset name")
    choose(screen, "pty_demo", "Input folder or file")
    choose(screen, "demo/samples", "Choose 1-9: ")
    choose(screen, "1", f"Choose 1-{len(catalog.PROVIDERS)}")
    choose(screen, str(openai), "Choose 1-")
    shown = choose(screen, str(mini), "Choose 1-9: ")
    assert "Target: openai/gpt-4o-mini-2024-07-18." in shown
    choose(screen, "9", MAIN_PROMPT)
    shown = choose(screen, "2", "Start generating? [Y/n]: ")
    assert "Read 7 document(s); skipped 0." in shown
    screen.sendline("y")
    screen.expect_exact(MAIN_PROMPT, timeout=180)
    assert "Dataset 'pty_demo'" in screen.before
    choose(screen, "3", "[1]: ")
    shown = choose(screen, "", MAIN_PROMPT)
    assert "Token length histogram" in shown and "admissions_faq.md" in shown
    choose(screen, "4", "[1]: ")
    choose(screen, "", f"Choose 1-{len(EXPORT_FORMATS)}")
    shown = choose(screen, "", MAIN_PROMPT)
    assert "Exported pty_demo as openai" in shown
    assert (isolated_home / "output_datasets" / "pty_demo" / "pty_demo_metadata.csv").is_file()
    screen.sendline("6")
    screen.expect_exact("Goodbye.")
    assert "Not saved to config.yaml: " in screen.before
