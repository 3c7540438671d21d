"""Write a stored dataset to output_datasets/<name>/: JSONL per split, CSV metadata, stats JSON.

Every file is written under a temporary name in the same folder and renamed only when all of them
are complete, so an interrupted export leaves the previous files (or none), never half of one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from src.config import EXPORT_FORMATS
from src.errors import UsageError
from src.export.paths import StagedFiles, dataset_dir, safe_output_name
from src.export.stats import dataset_stats
from src.models import Example
from src.persistence.sqlite_client import Database
from src.targets import formatter
from src.utils.text import preview

PREVIEW_CHARS = 200
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ["sample_id", "content_preview", "token_length", "topic_keywords", "source_file",
               "split", "origin", "mode", "location"]


@dataclass
class ExportResult:
    """What an export wrote: the folder, the files by role, and how many samples went where."""

    name: str
    folder: Path
    fmt: str
    files: dict[str, Path] = field(default_factory=dict)  # train, validation | all, csv, stats
    counts: dict[str, int] = field(default_factory=dict)


def resolve_format(fmt: str, provider: str) -> str:
    """The concrete record format: 'native' becomes the target provider's own format."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}.")
    if fmt != "native":
        return fmt
    native = getattr(formatter, "native_format", None)
    return native(provider) if native else provider


def _stored_format(dataset: dict) -> str:
    try:
        config = json.loads(dataset.get("config") or "{}")
    except json.JSONDecodeError:
        return "native"
    output = config.get("output") if isinstance(config, dict) else None
    return (output or {}).get("format") or "native"


def export_dataset(name_or_id: str, db: Database, *, fmt: str | None = None,
                   out_dir: Path | None = None, include_csv: bool = True,
                   include_stats: bool = True) -> ExportResult:
    """Export a stored dataset's accepted samples; `fmt` None uses the dataset's own setting."""
    dataset = db.get_dataset(name_or_id)
    record_format = resolve_format(fmt or _stored_format(dataset), dataset["provider"])
    examples = db.load_examples(dataset["id"], "accepted")
    if not examples:
        raise UsageError(f"Dataset {dataset['name']!r} has no accepted samples to export. "
                         "Generate it again, or see why they were rejected with "
                         "`analyze-errors`.")
    name = safe_output_name(dataset["name"])
    folder = dataset_dir(name, Path(out_dir) if out_dir else None)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(folder)
    result = ExportResult(name, folder, record_format)
    with StagedFiles() as staged:
        _stage_jsonl(staged, result, partition(examples))
        if include_csv:
            result.files["csv"] = folder / f"{name}_metadata.csv"
            with staged.open(result.files["csv"], newline="") as handle:
                write_metadata_csv(handle, examples)
        if include_stats:
            result.files["stats"] = folder / f"{name}_stats.json"
            with staged.open(result.files["stats"]) as handle:
                _write_stats(handle, db, dataset["id"], result)
    _remove_stale(folder, name, result.files)
    return result


def _stage_jsonl(staged: StagedFiles, result: ExportResult,
                 parts: dict[str, list[Example]]) -> None:
    for key, part in parts.items():
        file_name = f"{result.name}.jsonl" if key == "all" else f"{result.name}_{key}.jsonl"
        result.files[key] = result.folder / file_name
        with staged.open(result.files[key]) as handle:
            result.counts[key] = write_jsonl(handle, part, result.fmt)


def partition(examples: list[Example]) -> dict[str, list[Example]]:
    """{'train', 'validation'} when any sample is in validation, else {'all'}."""
    if not any(ex.split == "validation" for ex in examples):
        return {"all": examples}
    return {"train": [ex for ex in examples if ex.split != "validation"],
            "validation": [ex for ex in examples if ex.split == "validation"]}


def write_jsonl(handle: IO[str], examples: Iterable[Example], fmt: str) -> int:
    """One formatted record per line; returns how many lines."""
    count = 0
    for ex in examples:
        handle.write(orjson.dumps(formatter.format_example(ex, fmt)).decode())
        handle.write("\n")
        count += 1
    return count


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will show as text: formula-like strings get a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def content_preview(ex: Example, limit: int = PREVIEW_CHARS) -> str:
    """The conversation on one line, cut at `limit` characters."""
    return preview(" | ".join(f"{t.role}: {t.content[:limit * 2]}" for t in ex.turns)[:limit * 2],
                   limit)


def write_metadata_csv(handle: IO[str], examples: list[Example]) -> None:
    """The metadata CSV: one row per sample, quality scores as score_<name> columns."""
    score_names = sorted({k for ex in examples for k in ex.scores})
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS + [f"score_{k}" for k in score_names])
    for ex in examples:
        text = [ex.id, content_preview(ex), ex.token_length, ", ".join(ex.topic_keywords),
                ex.source_file, ex.split, ex.origin, ex.mode, ex.location]
        # inline csv_safe: this loop runs once per cell of 100,000-row exports
        writer.writerow([("'" + v) if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
                         for v in text] + [ex.scores.get(k, "") for k in score_names])


def _write_stats(handle: IO[str], db: Database, dataset_id: str, result: ExportResult) -> None:
    stats = dataset_stats(db, dataset_id)
    stats["export"] = {"format": result.fmt, "counts": result.counts,
                       "files": {k: p.name for k, p in result.files.items()}}
    json.dump(stats, handle, ensure_ascii=False, indent=2, default=str)
    handle.write("\n")


def _remove_stale(folder: Path, name: str, written: dict[str, Path]) -> None:
    """Drop JSONL files of the other layout (split vs. not) left by an earlier export."""
    layout = {f"{name}.jsonl", f"{name}_train.jsonl", f"{name}_validation.jsonl"}
    for file_name in layout - {p.name for p in written.values()}:
        (folder / file_name).unlink(missing_ok=True)


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of an export that was killed before it could clean up."""
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
