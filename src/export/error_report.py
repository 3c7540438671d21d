"""A stored dataset's error analysis, written next to its exports as <name>_errors.json."""

from __future__ import annotations

from pathlib import Path

from src.config import db_path, output_root
from src.persistence.sqlite_client import Database
from src.quality.error_analysis import analyze, write_report


def errors_path(name: str) -> Path:
    """Where a dataset's error report lives: output_datasets/<name>/<name>_errors.json."""
    return output_root() / name / f"{name}_errors.json"


def analyze_dataset(name: str, output: Path | None = None) -> tuple[dict, list[Path]]:
    """Analyse a stored dataset; writes <name>_errors.json next to it (and to `output`)."""
    with Database(db_path()) as db:
        dataset = db.get_dataset(name)
        examples = db.load_examples(dataset["id"], status=None)
    report = {"dataset": dataset["name"], **analyze(examples)}
    paths = [write_report(report, errors_path(dataset["name"]))]
    if output is not None:
        paths.append(write_report(report, output))
    return report, paths
