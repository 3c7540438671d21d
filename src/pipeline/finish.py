"""The whole-dataset stages at the end of a run: validate, split, coverage, export, error report."""

from __future__ import annotations

import json
from typing import Any

from src.errors import AuthError, ProviderError, StorageError
from src.export.error_report import errors_path, write_errors_report
from src.export.exporter import ExportResult, export_dataset
from src.export.splitter import SplitResult, split
from src.models import Example, reason_counts
from src.persistence.sqlite_client import Database
from src.pipeline.processor import Processor, RunLog
from src.pipeline.result import RunResult
from src.pipeline.shortfall import shortfall
from src.providers.llm_client import network_counts
from src.quality import error_analysis
from src.targets.formatter import format_example
from src.targets.tokens import is_exact
from src.targets.validator import validate_records
from src.utils.text import strip_source_tags

# ---------------------------------------------------------------- whole-dataset stages

VALIDATION_REASON = {"tokens": "over_token_limit"}  # validator rule keyword → failure category


def _validate(processor: Processor, accepted: list[Example]) -> tuple[list[Example], list[str]]:
    """Reject examples whose formatted line breaks a target rule; dataset-level issues → warnings."""
    config = processor.config
    report = validate_records((format_example(ex, processor.fmt) for ex in accepted),
                              config.provider, config.model)
    warnings = [issue.message for issue in report.errors if not issue.line]
    warnings += [w.message for w in report.warnings if not w.line]
    rejected = []
    for line, rules in report.failing_lines.items():  # every failing line, not just those listed
        ex = accepted[line - 1]
        reason = next((VALIDATION_REASON[k] for r in rules for k in VALIDATION_REASON if k in r),
                      "malformed_output")
        ex.reasons.append(reason)
        ex.notes.append("target validation failed: " + ", ".join(rules))
        rejected.append(ex)
    return rejected, warnings


def _coverage_rows(processor: Processor, everything: list[Example]) -> list[dict]:
    rows: dict[str, dict] = {}
    for chunk in processor.log.plan.chunks:
        rows[chunk.id] = {"chunk_id": chunk.id, "source_file": chunk.source_file,
                          "location": chunk.location, "generated": 0, "accepted": 0, "rejected": 0}
    for ex in everything:
        if not ex.chunk_id:
            continue
        row = rows.setdefault(ex.chunk_id, {"chunk_id": ex.chunk_id, "source_file": ex.source_file,
                                            "location": ex.location, "generated": 0,
                                            "accepted": 0, "rejected": 0})
        row["generated"] += 1
        if not ex.surplus:  # surplus: generated, neither in the dataset nor a reject
            row["rejected" if ex.reasons else "accepted"] += 1
    return list(rows.values())


def _nothing_produced(log: RunLog) -> ProviderError:
    """The error for a run whose every work item failed: the first failure says what to fix."""
    counts = ", ".join(f"{n} {category}" for category, n in log.failure_counts().items())
    auth = [f for f in log.failures if f.category in ("auth", "billing")]
    first = (auth or log.failures)[0]
    message = (f"No samples were produced: work items failed ({counts}). "
               f"First failure: {first.message}")
    return AuthError(message) if auth else ProviderError(message)


def export_files(name: str, db: Database, **options: Any) -> ExportResult:
    """export_dataset, with a file system that refuses the files (a full disk, a file where the
    dataset's folder must go) reported as a StorageError that says what to do."""
    try:
        return export_dataset(name, db, **options)
    except OSError as exc:
        where = exc.filename or "output_datasets/"
        raise StorageError(f"Cannot write the export of {name} to {where} "
                           f"({exc.strerror or exc}). Free some disk space, or move what is in "
                           "the way, then run `python -m src.main export "
                           f"{name}` (the samples are saved).") from None


def unfinished_note(db: Database, name: str) -> str:
    """A warning for exporting a dataset whose last run ended before its split (killed, Ctrl-C,
    a failure): its accepted samples would go into one unsplit file. "" when all is well."""
    dataset = db.get_dataset(name)
    try:
        wanted = json.loads(dataset.get("config") or "{}").get("split", {}).get("enabled", True)
    except (ValueError, AttributeError):
        wanted = True
    unsplit = db.unsplit_count(dataset["id"]) if wanted else 0
    if not unsplit:
        return ""
    last = db.last_run(dataset["id"])
    status = f" (its last run is marked {last['status']})" if last else ""
    return (f"{unsplit} accepted sample(s) of {dataset['name']} have no train/validation split: "
            f"a run ended before its split{status}, so this export puts them in one file. Run "
            "generate again with the same dataset name to finish it (nothing already paid for "
            "is paid again).")


def finish_dataset(processor: Processor) -> RunResult:
    """Validation, split, coverage, export and error report over everything stored for the dataset."""
    db, config, log = processor.db, processor.config, processor.log
    everything = db.load_examples(log.dataset_id, status=None)  # once: later stages update these
    accepted = [ex for ex in everything if not ex.reasons]
    if not accepted and log.failures and not _drafts(everything):
        raise _nothing_produced(log)
    rejected, warnings = _validate(processor, accepted)
    db.save_examples(log.dataset_id, rejected)
    accepted = [ex for ex in accepted if not ex.reasons]
    result = split(accepted, config.split.ratio if config.split.enabled else None,
                   config.split.strategy, config.split.weight_by, config.split.seed,
                   leak_threshold=config.quality.near_duplicate_threshold)
    db.set_splits({ex.id: ex.split for ex in accepted})
    db.set_split_report(log.dataset_id, result.report())
    db.add_coverage(log.dataset_id, _coverage_rows(processor, everything))
    db.refresh_totals(log.dataset_id)
    run = _result(processor, everything, accepted, result, warnings)
    analysis = error_analysis.analyze(everything)
    del everything, accepted, result  # the export reads the store: this memory is reused
    run.files = _export(processor, run, analysis)
    return run


def _result(processor: Processor, everything: list[Example], accepted: list[Example],
            result: SplitResult, warnings: list[str]) -> RunResult:
    """The run's summary, before its files are written."""
    config, log = processor.config, processor.log
    totals = log.client_totals
    counts = {"samples": len(accepted), "train": len(result.train),
              "validation": len(result.validation),
              "rejected": sum(1 for ex in everything if ex.rejected),
              "surplus": sum(1 for ex in everything if ex.surplus)}
    reasons = reason_counts([ex for ex in everything if ex.rejected])
    drafts = _drafts(everything)  # apart from failed work items' stand-ins
    if not accepted:
        warnings.append(_none_accepted(processor.name, log, len(drafts), reasons))
    short = shortfall(log, counts["samples"], [ex for ex in drafts if ex.rejected])
    warnings += [short["message"]] if short else []
    return RunResult(
        dataset_id=log.dataset_id, name=processor.name, mode=config.mode,
        target=f"{config.provider}/{config.model}", counts=counts,
        tokens=sum(ex.token_length for ex in accepted),
        cost_usd=float(totals.get("cost_usd", 0.0)), requests=int(totals.get("requests_sent", 0)),
        files={}, skipped=[{"path": f.path, "error": f.reason} for f in log.plan.skipped],
        warnings=list(dict.fromkeys(strip_source_tags(w) for w in log.plan.messages
                                    + log.messages + warnings + list(result.notes))),
        stopped_reason=log.stopped_reason, failures=log.failure_counts(),
        summary={"cache_hits": int(totals.get("cache_hits", 0)),
                 "rejected_by_reason": reasons,
                 "surplus_reused": processor.reused, "agent_price": totals.get("price", ""),
                 "tokens_exact": is_exact(config.provider, config.model),
                 "mix": _mix(accepted) if config.mode == "hybrid" else {},
                 "distribution": result.distribution, "network": network_counts(totals),
                 "cached_input_tokens": int(totals.get("cached_input_tokens", 0)),
                 "malformed_retries": int(totals.get("malformed_retries", 0)),
                 "shortfall": short or {}})


def _export(processor: Processor, run: RunResult, analysis: dict) -> dict[str, str]:
    """Export the accepted samples (none accepted: nothing to export, said as a warning) and
    write the error report; returns the files by role."""
    config, name = processor.config, processor.name
    files: dict[str, str] = {}
    if run.counts["samples"]:
        exported = export_files(name, processor.db, fmt=config.output.format,
                                include_csv=config.output.include_csv,
                                include_stats=config.output.include_stats,
                                include_report=config.output.include_report)
        files = {k: str(v) for k, v in exported.files.items()}
    files["errors"] = str(write_errors_report(analysis, errors_path(name)))
    return files


def _drafts(everything: list[Example]) -> list[Example]:
    """Samples the agent wrote (accepted or not): the stand-ins of failed work items left out."""
    return [ex for ex in everything if any(t.content.strip() for t in ex.turns)]


def _none_accepted(name: str, log: RunLog, drafts: int, reasons: dict[str, int]) -> str:
    """The warning of a run that kept nothing: drafts rejected and work items failed, apart."""
    why = ", ".join(f"{k} {v}" for k, v in list(reasons.items())[:4])
    failed = log.failure_counts()
    items = (f", and {sum(failed.values())} work item(s) failed ("
             + ", ".join(f"{n} {k}" for k, n in failed.items()) + ")") if failed else ""
    return (f"No sample was accepted: {drafts} draft(s) were written and rejected ({why}){items}, "
            f"so nothing was exported: `python -m src.main analyze-errors {name}` says why and "
            "what to change.")


def _mix(accepted: list[Example]) -> dict[str, int]:
    """Hybrid: how many accepted samples were identified and how many created."""
    identified = sum(1 for ex in accepted if ex.origin == "extracted")
    return {"identified": identified, "created": len(accepted) - identified}
