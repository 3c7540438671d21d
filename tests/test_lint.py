"""The code stays lint-clean (ruff, ruff.toml) and type-clean (mypy, mypy.ini): part of `make test`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # ruff and mypy come with requirements-dev.txt in the same venv


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    result = _run(str(BIN / "ruff"), "check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_on_src() -> None:
    result = _run(str(BIN / "mypy"), "--config-file", "mypy.ini")
    assert result.returncode == 0, result.stdout + result.stderr
