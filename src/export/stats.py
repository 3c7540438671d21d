"""Statistics of a stored dataset: counts, tokens (with a histogram and the target's limit), sources,
keywords, quality (scores, faithfulness, the judge, diversity, contamination: figures.py), cost and
coverage of the source files, as plain data (`cli/render.py` and `report.py` draw them)."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from typing import Any

from src.export.figures import quality_figures
from src.models import CoverageRow
from src.persistence.batch_jobs import batch_spend
from src.persistence.sqlite_client import Database
from src.targets.tokens import is_exact, tokenizer_name

HISTOGRAM_BINS = 10
NO_GROUP = "(none)"
_ROW_COLUMNS = ("id, token_length, topic_keywords, source_file, split, status, reasons, "
                "json_extract(metadata, '$.chunk_id') AS chunk_id")


def dataset_stats(db: Database, name: str) -> dict[str, Any]:
    """Everything `stats` shows about one dataset (name or id), as plain JSON-ready data: the one
    function the stats JSON, the HTML report and the dataset card take their figures from."""
    ds = db.get_dataset(name)
    rows = db.sample_rows(ds["id"], _ROW_COLUMNS)
    accepted = [r for r in rows if r["status"] == "accepted"]
    rejected = [r for r in rows if r["status"] == "rejected"]
    surplus = sum(1 for r in rows if r["status"] == "surplus")
    report = json.loads(ds.get("split_report") or "{}")
    report.pop("distribution", None)  # recomputed below from the stored splits
    coverage = db.coverage(ds["id"])
    figures = quality_figures(db.load_examples(ds["id"], status=None), coverage, ds["provider"],
                              ds["model"])
    last = db.last_run(ds["id"])
    return {
        "dataset": {**{k: ds[k] for k in ("id", "name", "provider", "model", "mode",
                                          "created_at", "updated_at")},
                    "last_run": last["status"] if last else None},
        "counts": {**_counts(accepted, rejected), "surplus": surplus},
        "tokens": {**token_summary([r["token_length"] or 0 for r in accepted]),
                   **figures.pop("token_limit"), "exact": is_exact(ds["provider"], ds["model"]),
                   "tokenizer": tokenizer_name(ds["provider"], ds["model"])},
        "by_source": _breakdown(accepted, _source),
        "by_keyword": _breakdown(accepted, _first_keyword),
        "quality": {"accepted_means": db.score_means(ds["id"], "accepted"),
                    "rejected_means": db.score_means(ds["id"], "rejected"),
                    "rejection_reasons": _reasons(rejected), **figures},
        "cost": {**_cost(db.run_totals(ds["id"]), len(accepted), batch_spend(db, ds["name"])),
                 "per_run": db.runs(ds["id"])},
        "coverage": coverage_by_source(coverage, rows),
        "split": report,
    }


def _source(row: dict) -> str:
    return row["source_file"] or NO_GROUP


def _first_keyword(row: dict) -> str:
    first = (row["topic_keywords"] or "").split(",")[0].strip().lower()
    return first or NO_GROUP


def _counts(accepted: list[dict], rejected: list[dict]) -> dict[str, int]:
    splits = Counter(r["split"] or "unsplit" for r in accepted)
    return {"accepted": len(accepted), "rejected": len(rejected), "train": splits["train"],
            "validation": splits["validation"], "unsplit": splits["unsplit"]}


def token_summary(lengths: list[int]) -> dict[str, Any]:
    """Total, mean, median, min, max, p90 and a histogram of token lengths."""
    if not lengths:
        return {"total": 0, "mean": 0, "median": 0, "min": 0, "max": 0, "p90": 0, "histogram": []}
    ordered = sorted(lengths)
    return {"total": sum(ordered), "mean": round(statistics.fmean(ordered), 1),
            "median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1],
            "p90": ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)],
            "histogram": histogram(ordered)}


def histogram(lengths: list[int], bins: int = HISTOGRAM_BINS) -> list[dict[str, int]]:
    """Equal-width bins from min to max: [{"from", "to", "count"}], `to` inclusive."""
    if not lengths:
        return []
    low, high = min(lengths), max(lengths)
    width = max(1, math.ceil((high - low + 1) / bins))
    counts = Counter((n - low) // width for n in lengths)
    last = (high - low) // width
    return [{"from": low + i * width, "to": low + (i + 1) * width - 1, "count": counts[i]}
            for i in range(last + 1)]


def _breakdown(rows: list[dict], key: Any) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = defaultdict(
        lambda: {"samples": 0, "tokens": 0, "train": 0, "validation": 0})
    for r in rows:
        entry = result[key(r)]
        entry["samples"] += 1
        entry["tokens"] += r["token_length"] or 0
        if r["split"] in ("train", "validation"):
            entry[r["split"]] += 1
    return dict(sorted(result.items(), key=lambda kv: (-kv[1]["samples"], kv[0])))


def _reasons(rejected: list[dict]) -> dict[str, int]:
    reasons = Counter(reason for r in rejected for reason in (r["reasons"] or "").split(",")
                      if reason)
    return dict(reasons.most_common())


def _cost(runs: dict, accepted: int, batch: dict) -> dict[str, Any]:
    """Live spend (the runs' requests) and Batch API spend (generate --batch), and their total."""
    live = float(runs["cost_usd"] or 0)
    cost = live + batch["cost_usd"]
    return {**runs, "cost_usd": round(cost, 6), "live_usd": round(live, 6),
            "live_requests": runs["requests"], "batch_usd": batch["cost_usd"],
            "batch_requests": batch["requests"],
            "requests": runs["requests"] + batch["requests"],
            "input_tokens": runs["input_tokens"] + batch["input_tokens"],
            "output_tokens": runs["output_tokens"] + batch["output_tokens"],
            "cost_per_accepted": round(cost / accepted, 6) if accepted else None}


def coverage_by_source(chunks: list[CoverageRow], rows: list[dict]) -> dict[str, dict[str, Any]]:
    """Per source file: chunks and locations (pages, sheets, slides) used and unused, samples
    accepted and rejected. A chunk is used when any sample came from it."""
    from_samples = {r.get("chunk_id") for r in rows if r.get("chunk_id")}
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "chunks": 0, "chunks_used": 0, "locations": set(), "locations_used": set(),
        "accepted": 0, "rejected": 0})
    for c in chunks:
        entry = per[c.source_file or NO_GROUP]
        used = bool(c.generated or c.accepted or c.rejected or c.chunk_id in from_samples)
        entry["chunks"] += 1
        entry["chunks_used"] += used
        if c.location:
            entry["locations"].add(c.location)
            if used:
                entry["locations_used"].add(c.location)
    for r in rows:
        if r["status"] in ("accepted", "rejected"):  # surplus: neither in the dataset nor a reject
            per[_source(r)][r["status"]] += 1
    return {source: _finish_coverage(e) for source, e in sorted(per.items())}


def _finish_coverage(entry: dict[str, Any]) -> dict[str, Any]:
    chunks, used = entry["chunks"], entry["chunks_used"]
    return {"chunks": chunks, "chunks_used": used, "chunks_unused": chunks - used,
            "share_used": round(used / chunks, 3) if chunks else None,
            "locations": len(entry["locations"]), "locations_used": len(entry["locations_used"]),
            "accepted": entry["accepted"], "rejected": entry["rejected"]}
