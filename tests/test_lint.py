"""The code stays lint-clean (ruff, configured in ruff.toml): part of `make test`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        found = shutil.which("ruff")
        if not found:
            pytest.skip("ruff is not installed (it comes with requirements-dev.txt)")
        ruff = Path(found)
    result = subprocess.run([str(ruff), "check", "src", "tests", "bench"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
