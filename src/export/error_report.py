"""A stored dataset's error analysis, written next to its exports as <name>_errors.json."""

from __future__ import annotations

from pathlib import Path

from src.config import db_path, output_root
from src.export.paths import safe_output_name
from src.persistence.files import write_json_atomic
from src.persistence.sqlite_client import Database
from src.quality.error_analysis import analyze


def errors_path(name: str) -> Path:
    """Where a dataset's error report lives: output_datasets/<name>/<name>_errors.json."""
    safe = safe_output_name(name)
    return output_root() / safe / f"{safe}_errors.json"


def write_errors_report(report: dict, path: Path) -> Path:
    """The report as JSON, written atomically and never through a symbolic link."""
    return write_json_atomic(path, report)


def analyze_dataset(name: str, output: Path | None = None) -> tuple[dict, list[Path]]:
    """Analyse a stored dataset; writes <name>_errors.json next to it (and to `output`)."""
    with Database(db_path()) as db:
        dataset = db.get_dataset(name)
        examples = db.load_examples(dataset["id"], status=None)
    report = {"dataset": dataset["name"], **analyze(examples)}
    paths = [write_errors_report(report, errors_path(dataset["name"]))]
    if output is not None:
        paths.append(write_errors_report(report, output))
    return report, paths
