"""Write a stored dataset to output_datasets/<name>/, checked against the target it is written for.

- The dataset's own format (config `output.format`, by default the target's native JSONL) goes to
  `<name>/`: JSONL per split, CSV metadata and stats JSON. Any other format goes to its own folder
  `<name>/<format>/`, so exporting for another target never replaces the dataset's files.
- Each set is written into a fresh folder and swapped in whole (`paths.staged_folder`), under the
  dataset's lock (`persistence.locks`): a second export waits for the first, an export during a
  generate run is refused with a message, and a kill leaves the old set or the new one.
- Every set is validated against the target it is for (a provider format: that provider's rules;
  an open-trainer format: the record structure), and the result says when it is not valid.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from src.config import EXPORT_FORMATS, RECORD_FORMATS, TARGET_PROVIDERS
from src.errors import ConfigError, DatasetNotFound, UsageError
from src.export import writers
from src.export.card import dataset_card
from src.export.paths import dataset_dir, safe_output_name, staged_folder
from src.export.report import report_html
from src.export.stats import dataset_stats
from src.models import Example
from src.persistence.files import remove_temporaries
from src.persistence.locks import dataset_lock
from src.persistence.sqlite_client import Database
from src.targets import catalog, formatter
from src.targets.validator import ValidationReport, validate_records
from src.utils.text import preview

PREVIEW_CHARS = 200
EXPORT_WAIT_S = 60.0  # how long an export waits for another export of the same dataset
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ["sample_id", "content_preview", "token_length", "topic_keywords", "source_file",
               "split", "origin", "mode", "location"]
ISSUES_SHOWN = 3


@dataclass
class ExportResult:
    """What an export wrote: the folder, the files by role, counts, and the validation verdict."""

    name: str
    folder: Path
    fmt: str
    files: dict[str, Path] = field(default_factory=dict)  # train, validation | all, csv, stats, ...
    counts: dict[str, int] = field(default_factory=dict)
    target: str = ""  # what the files were checked against ("amazon/amazon.nova-lite-v1:0:300k")
    validation: dict[str, dict] = field(default_factory=dict)  # split -> summary
    problems: list[str] = field(default_factory=list)  # a few errors, each with file and line

    @property
    def valid(self) -> bool:
        return all(v["ok"] for v in self.validation.values())


def resolve_format(fmt: str, provider: str) -> str:
    """The concrete format: 'native' becomes the target provider's own format."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}.")
    return formatter.native_format(provider) if fmt == "native" else fmt


def _stored_output(dataset: dict) -> dict[str, Any]:
    try:
        config = json.loads(dataset.get("config") or "{}")
    except json.JSONDecodeError:
        return {}
    output = config.get("output") if isinstance(config, dict) else None
    return output if isinstance(output, dict) else {}


def own_format(dataset: dict) -> str:
    """The format of the dataset's own files in <name>/ (a record format, never a bundle)."""
    stored = _stored_output(dataset).get("format") or "native"
    provider = dataset["provider"]
    if stored not in RECORD_FORMATS or provider not in TARGET_PROVIDERS:
        stored = "native"
    return resolve_format(stored, provider) if provider in TARGET_PROVIDERS else provider


def _options(dataset: dict, include_context: bool | None) -> formatter.FormatOptions:
    stored = _stored_output(dataset)
    return formatter.FormatOptions(
        include_context=bool(stored.get("include_context")) if include_context is None
        else include_context, control_tokens=bool(stored.get("control_tokens")))


def find_dataset(db: Database, name_or_id: str) -> dict:
    """The stored dataset by name or id, or by the cleaned name the run stored ("a b" -> "a_b-…")."""
    try:
        return db.get_dataset(name_or_id)
    except DatasetNotFound:
        safe = safe_output_name(name_or_id) if name_or_id.strip() else name_or_id
        if safe == name_or_id:
            raise
        return db.get_dataset(safe)


def export_dataset(name_or_id: str, db: Database, *, fmt: str | None = None,
                   out_dir: Path | None = None, include_csv: bool = True,
                   include_stats: bool = True, model: str | None = None,
                   include_context: bool | None = None, include_report: bool = True) -> ExportResult:
    """Export a stored dataset's accepted samples; `fmt` None uses the dataset's own format.

    `model`: for a provider format other than the dataset's target, the model to validate against
    (default: that provider's default model).
    """
    dataset = find_dataset(db, name_or_id)
    chosen = resolve_format(fmt or _stored_output(dataset).get("format") or "native",
                            dataset["provider"]) if dataset["provider"] in TARGET_PROVIDERS \
        else (fmt or "openai")
    examples = db.load_examples(dataset["id"], "accepted")
    if not examples:
        raise UsageError(f"Dataset {dataset['name']!r} has no accepted samples to export. "
                         "Generate it again, or see why they were rejected with `analyze-errors`.")
    name = safe_output_name(dataset["name"])
    folder = dataset_dir(name, Path(out_dir) if out_dir else None)
    own = chosen == own_format(dataset)
    target = folder if own else folder / chosen
    result = ExportResult(name, target, chosen)
    with dataset_lock(name, "export", wait_s=EXPORT_WAIT_S):
        folder.mkdir(parents=True, exist_ok=True)
        remove_temporaries(folder)  # files of the former one-file-at-a-time exports
        with staged_folder(target, keep_others=own, replaced=own_files(name)) as staging:
            out = writers.ExportSet(name, staging, target, partition(examples),
                                    _options(dataset, include_context))
            _write(out, chosen, dataset, examples, db)
            _validate(out, result, dataset, model)
            if own and include_csv:
                out.write(f"{name}_metadata.csv", metadata_csv(examples), "csv")
            stats = dataset_stats(db, dataset["id"]) if own and (include_stats or include_report) else {}
            if own and include_stats:
                out.write(f"{name}_stats.json", _stats_json(stats, result, out), "stats")
            if own and include_report:  # the same figures, drawn (export/report.py)
                out.write(f"{name}_report.html", report_html(db, dataset["id"], stats).encode(), "report")
        result.files = {role: target / rel for role, rel in out.files.items()}
        result.counts = {key: len(part) for key, part in out.parts.items()}
    return result


def own_files(name: str) -> frozenset[str]:
    """The file names of a dataset's own set in <name>/ (replaced, never carried over)."""
    return frozenset({f"{name}.jsonl", f"{name}_train.jsonl", f"{name}_validation.jsonl",
                      f"{name}_metadata.csv", f"{name}_stats.json", f"{name}_report.html"})


def _write(out: writers.ExportSet, chosen: str, dataset: dict, examples: list[Example],
           db: Database) -> None:
    if chosen in writers.BUNDLES:
        writers.BUNDLES[chosen](out)
    elif chosen == "hf":
        stats = dataset_stats(db, dataset["id"])
        license_id = _stored_output(dataset).get("license") or "unknown"
        writers.write_hf(out, lambda splits: dataset_card(dataset, examples, stats, splits,
                                                          license_id))
    else:
        stem = out.name if chosen == own_format(dataset) else f"{out.name}_{chosen}"
        writers.write_jsonl(out, chosen, stem)


def validation_target(fmt: str, dataset: dict, model: str | None) -> tuple[str, str, bool]:
    """(provider, model, structure_only) an export in `fmt` is checked against."""
    provider = fmt if fmt in TARGET_PROVIDERS else dataset["provider"]
    wanted = dataset["model"] if provider == dataset["provider"] else model
    try:
        spec = catalog.get_model(provider, wanted or catalog.DEFAULT_MODEL[provider])
    except (ConfigError, KeyError):  # a dataset whose target is not (or no longer) in the catalog
        provider = fmt if fmt in TARGET_PROVIDERS else "openai"
        spec = catalog.get_model(provider, catalog.DEFAULT_MODEL[provider])
    return spec.provider, spec.model, fmt not in TARGET_PROVIDERS


def _validate(out: writers.ExportSet, result: ExportResult, dataset: dict,
              model: str | None) -> None:
    provider, model_id, structure = validation_target(result.fmt, dataset, model)
    result.target = (f"{provider}/{model_id}" if not structure
                     else f"{result.fmt} (record structure; open trainers set no provider limits)")
    # samples store their tokens counted in the dataset's own target format: reuse them for it
    same = (out.record_format == formatter.native_format(provider) and provider ==
            dataset["provider"] and model_id == _catalog_model(dataset))
    for key, records in out.records.items():
        counts = [ex.token_length for ex in out.parts[key]]
        report = validate_records(records, provider, model_id, split=out.split_name(key),
                                  fmt=out.record_format, structure_only=structure,
                                  file_bytes=None if structure else out.sizes.get(key),
                                  token_counts=counts if same and all(counts) else None)
        result.validation[key] = _summary(report)
        where = out.files.get(key, Path(key))
        result.problems += [f"{where.name}: {'line ' + str(i.line) if i.line else 'file'}: "
                            f"{i.message}" for i in report.errors[:ISSUES_SHOWN]]


def _catalog_model(dataset: dict) -> str | None:
    try:
        return catalog.get_model(dataset["provider"], dataset["model"]).model
    except ConfigError:
        return None


def _summary(report: ValidationReport) -> dict[str, Any]:
    data = report.to_dict()
    keep = ("ok", "provider", "model", "format", "checked", "examples", "total_tokens",
            "token_counts", "errors_total", "warnings_total", "error_counts", "warning_counts")
    return {k: data[k] for k in keep}


def partition(examples: list[Example]) -> dict[str, list[Example]]:
    """{'train', 'validation'} when any sample is in validation, else {'all'}."""
    if not any(ex.split == "validation" for ex in examples):
        return {"all": examples}
    return {"train": [ex for ex in examples if ex.split != "validation"],
            "validation": [ex for ex in examples if ex.split == "validation"]}


def write_jsonl(handle: IO[str], examples: Iterable[Example], fmt: str) -> int:
    """One formatted record per line (line separators escaped); returns how many lines."""
    count = 0
    for ex in examples:
        handle.write(writers.jsonl_line(formatter.format_example(ex, fmt)).decode())
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


def metadata_csv(examples: list[Example]) -> bytes:
    handle = io.StringIO(newline="")
    write_metadata_csv(handle, examples)
    return handle.getvalue().encode("utf-8")


def _stats_json(stats: dict[str, Any], result: ExportResult, out: writers.ExportSet) -> bytes:
    stats = {**stats}
    stats["export"] = {"format": result.fmt, "counts": {k: len(v) for k, v in out.parts.items()},
                       "files": {k: p.name for k, p in out.files.items()},
                       "checked_against": result.target, "validation": result.validation}
    return (json.dumps(stats, ensure_ascii=False, indent=2, default=str) + "\n").encode()
