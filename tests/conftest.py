"""Shared fixtures. Every test runs with its own data directory, no real API keys, and bugs that
surface as tracebacks instead of the polite "Internal error" users see."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
DATA = Path(__file__).resolve().parent / "data"

KEY_VARS = [f"{p}_{s}" for p in ("OPENAI", "ANTHROPIC", "GOOGLE", "MISTRAL", "LLAMA")
            for s in ("API_KEY", "BASE_URL")] + ["AGENT_PROVIDER", "AGENT_MODEL", "GEMINI_API_KEY",
                                                 "HF_TOKEN", "HF_ENDPOINT"]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Move memory/ and output_datasets/ into tmp_path and drop provider env vars."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DATASET_BUILDER_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("DATASET_BUILDER_NO_DOTENV", "1")
    monkeypatch.setenv("DATASET_BUILDER_RERAISE", "1")  # our bugs surface as tracebacks in tests
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    return home


def corpus_file(relative: str) -> Path:
    """A file of ../shared/corpus; skips the test visibly when shared/ is absent."""
    path = SHARED_CORPUS / relative
    if not path.exists():
        pytest.skip(f"../shared/corpus/{relative} not present (sweep needs ../shared)")
    return path


def pytest_report_header(config: pytest.Config) -> str:
    present = "present" if SHARED_CORPUS.exists() else "ABSENT: corpus sweeps will skip"
    return f"shared corpus: {SHARED_CORPUS} ({present}); HOME isolation on; keys dropped: {len(KEY_VARS)}"


