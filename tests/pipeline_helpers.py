"""Helpers the pipeline, crash, fault, hostile-input, secrets and concurrency tests share.

`generate()` runs the command in this process; `start_cli()` runs it as a subprocess (for SIGKILL,
peak memory and two runs at once). Both talk to tests/fake_llm_server.py through *_BASE_URL.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from src.config import AGENT_PROVIDERS, PROJECT_ROOT, db_path
from src.main import main
from src.persistence.sqlite_client import Database

SAMPLES = PROJECT_ROOT / "demo" / "samples"
FAKE_KEY = "sk-test-pipeline-0123456789"
PROVIDERS = AGENT_PROVIDERS
FAST_LIMITS = {"requests_per_minute": 1_000_000, "tokens_per_minute": 1_000_000_000}


def provider_env(server, key: str = FAKE_KEY) -> dict[str, str]:
    """*_BASE_URL pointing at the fake server and *_API_KEY set to `key`, for every provider."""
    env = {}
    for provider in PROVIDERS:
        env[f"{provider.upper()}_BASE_URL"] = server.base_url(provider)
        env[f"{provider.upper()}_API_KEY"] = key
    return env


def point_env_at(server, monkeypatch: pytest.MonkeyPatch, key: str = FAKE_KEY) -> None:
    """Point every provider of this process at the fake server."""
    for name, value in provider_env(server, key).items():
        monkeypatch.setenv(name, value)


def write_config(tmp_path: Path, **overrides) -> Path:
    """tmp_path/config.yaml for a small create job on demo/samples; dotted keys override."""
    data = {"provider": "openai", "model": "gpt-4o-mini", "mode": "create", "dataset_size": 16,
            "output_name": "pipe", "budget_usd": 1.0,
            "input": {"directory": str(SAMPLES)},
            "split": {"enabled": True, "ratio": 0.75, "strategy": "random", "seed": 7},
            "system": {"agentic_llm": "openai", "agentic_model": "gpt-4o-mini",
                       "timeout": 10, "concurrency": 8}}
    for key, value in overrides.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def generate(config: Path, *extra: str) -> tuple[int, dict | None, str]:
    """`generate --yes --json` in this process: (exit code, parsed JSON or None, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["generate", "--config", str(config), "--yes", "--json", *extra])
    text = out.getvalue()
    return code, (json.loads(text) if text.strip() else None), err.getvalue()


def stored(name: str) -> list:
    """Every stored sample (accepted and rejected) of dataset `name` in the current home."""
    with Database(db_path()) as db:
        return db.load_examples(db.get_dataset(name)["id"], status=None)


# ---------------------------------------------------------------- subprocess runs

def cli_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI subprocess: this one's (already isolated), with its own home."""
    env = dict(os.environ, DATASET_BUILDER_HOME=str(home), DATASET_BUILDER_NO_DOTENV="1",
               NO_COLOR="1", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def start_cli(config: Path, workdir: Path, env: dict[str, str], *extra: str,
              tag: str = "run") -> subprocess.Popen:
    """Start `python -m src.main generate` with stdout/stderr in workdir/<tag>.out|.err."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "src.main", "generate", "--config", str(config), "--yes",
               "--json", *extra]
    out = open(workdir / f"{tag}.out", "wb")
    err = open(workdir / f"{tag}.err", "wb")
    with out, err:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err)


def cli_output(workdir: Path, tag: str = "run") -> tuple[dict | None, str]:
    """(parsed JSON summary or None, stderr text) of a finished start_cli run."""
    text = (workdir / f"{tag}.out").read_text(encoding="utf-8", errors="replace")
    err = (workdir / f"{tag}.err").read_text(encoding="utf-8", errors="replace")
    return (json.loads(text) if text.strip() else None), err


def run_cli(config: Path, workdir: Path, env: dict[str, str], *extra: str, tag: str = "run",
            timeout: float = 120) -> tuple[int, dict | None, str]:
    """start_cli and wait: (exit code, JSON summary or None, stderr)."""
    proc = start_cli(config, workdir, env, *extra, tag=tag)
    code = proc.wait(timeout=timeout)
    return (code, *cli_output(workdir, tag))


# ---------------------------------------------------------------- generated documents

SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "el", "dan", "pi", "qua", "zo", "ber",
             "nix", "tal", "gor", "ui", "fen", "ash", "mo"]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


def sentence(rng: random.Random, n: int) -> str:
    """A unique-looking sentence with a number, so quality and dedup see distinct facts."""
    words = [word(rng) for _ in range(rng.randint(9, 13))]
    words.insert(4, str(n * 7 + rng.randint(1, 6)))
    return " ".join(words).capitalize() + "."


def write_documents(folder: Path, files: int, paragraphs: int, sentences: int = 5,
                    seed: int = 1) -> list[Path]:
    """Markdown files of random but reproducible prose: `paragraphs` × `sentences` each."""
    folder.mkdir(parents=True, exist_ok=True)
    rng, n, paths = random.Random(seed), 0, []
    for f in range(files):
        parts = [f"# Guide {f + 1}"]
        for _ in range(paragraphs):
            n += 1
            parts.append(" ".join(sentence(rng, n * 10 + s) for s in range(sentences)))
        path = folder / f"guide_{f + 1:02d}.md"
        path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
