"""Reports drawn as text for a terminal: dataset statistics, error analysis, a file's quality."""

from __future__ import annotations

import math
from typing import Any

from src.cli.text_table import text_table

BAR_WIDTH = 40
TOP_KEYWORDS = 15


def render_histogram(bins: list[dict[str, int]], width: int = BAR_WIDTH) -> str:
    """One line per bin: range, a bar of '#' scaled to the largest bin, the count."""
    if not bins:
        return "(no samples)"
    top = max(b["count"] for b in bins) or 1
    label_width = len(f"{bins[-1]['from']}-{bins[-1]['to']}")
    lines = []
    for b in bins:
        bar = "#" * (math.ceil(b["count"] / top * width) if b["count"] else 0)
        label = f"{b['from']}-{b['to']}"
        lines.append(f"{label:>{label_width}} | {bar:<{width}} {b['count']}")
    return "\n".join(lines)


def _render_header(s: dict[str, Any]) -> list[str]:
    d, c, t = s["dataset"], s["counts"], s["tokens"]
    split = (f"train {c['train']}, validation {c['validation']}"
             + (f", unsplit {c['unsplit']}" if c["unsplit"] else ""))
    surplus = (f"; {c['surplus']} surplus (good, beyond the size asked for: a run with a "
               "larger size uses them first)" if c.get("surplus") else "")
    estimate = "" if t.get("exact", True) else f" (estimates: {t['tokenizer']})"
    return [f"Dataset {d['name']} ({d['id']}): target {d['provider']}/{d['model']}, "
            f"mode {d['mode']}, created {d['created_at']}",
            f"Samples: {c['accepted']} accepted ({split}); {c['rejected']} rejected{surplus}",
            f"Tokens{estimate}: total {t['total']:,}, mean {t['mean']}, median {t['median']}, "
            f"min {t['min']}, max {t['max']}, p90 {t['p90']}"] + _unfinished(d)


def _unfinished(d: dict[str, Any]) -> list[str]:
    if d.get("last_run") in (None, "done", "stopped"):
        return []
    return [f"Note: the last run of {d['name']} did not finish ({d['last_run']}): generate it "
            "again with the same name to finish its split and export (nothing paid is paid again)."]


def _render_breakdown(title: str, column: str, rows: dict[str, dict[str, int]],
                      limit: int | None) -> list[str]:
    items = list(rows.items())[:limit]
    more = f" (top {limit} of {len(rows)})" if limit and len(rows) > limit else ""
    body = [[k, v["samples"], v["train"], v["validation"], v["tokens"]] for k, v in items]
    return ["", f"{title}{more}", text_table(body, [column, "samples", "train", "validation",
                                                "tokens"])]


def _render_quality_cost(s: dict[str, Any]) -> list[str]:
    q, cost = s["quality"], s["cost"]
    means = ", ".join(f"{k} {v:.2f}" for k, v in q["accepted_means"].items()) or "no scores"
    reasons = ", ".join(f"{k} {v}" for k, v in q["rejection_reasons"].items()) or "none"
    per = (f"; ${cost['cost_per_accepted']:.4f} per accepted sample"
           if cost["cost_per_accepted"] is not None else "")
    return ["", f"Quality (mean over accepted): {means}", f"Rejection reasons: {reasons}",
            f"Cost: ${cost['cost_usd']:.4f} over {cost['runs']} run(s), {cost['requests']} "
            f"requests, {cost['input_tokens']:,} input / {cost['output_tokens']:,} output "
            f"tokens{per}", f"  live: ${cost.get('live_usd', cost['cost_usd']):.4f} "
            f"({cost.get('live_requests', cost['requests'])} requests); Batch API: "
            f"${cost.get('batch_usd', 0):.4f} ({cost.get('batch_requests', 0)} requests at "
            "half price)"]


def _render_coverage(cov: dict[str, dict[str, Any]]) -> list[str]:
    rows = [[src, e["chunks"], e["chunks_used"], e["chunks_unused"],
             f"{e['locations_used']}/{e['locations']}", e["accepted"], e["rejected"]]
            for src, e in cov.items()]
    return ["", "Coverage per source file",
            text_table(rows, ["source", "chunks", "used", "unused", "pages used", "accepted",
                          "rejected"]) if rows else "(no coverage recorded)"]


def render_stats(stats: dict[str, Any]) -> str:
    """The statistics as text for a terminal (plain characters only)."""
    lines = _render_header(stats)
    lines += ["", "Token length histogram", render_histogram(stats["tokens"]["histogram"])]
    lines += _render_breakdown("By source file", "source", stats["by_source"], None)
    lines += _render_breakdown("By first keyword", "keyword", stats["by_keyword"], TOP_KEYWORDS)
    lines += _render_quality_cost(stats)
    lines += _render_coverage(stats["coverage"])
    split = stats.get("split") or {}
    if split.get("leakage_moved") or split.get("notes"):
        lines += ["", "Split notes"] + [f"  - {n}" for n in split.get("notes", [])]
    return "\n".join(lines)


def error_summary(report: dict) -> list[str]:
    """An error analysis (quality.error_analysis) as a few readable lines."""
    surplus = report.get("surplus", 0)
    beyond = f", {surplus} surplus (good, beyond the size asked for)" if surplus else ""
    lines = [f"{report['total']} samples: {report['accepted']} accepted, {report['rejected']} rejected"
             f"{beyond} ({report['acceptance_rate']:.0%} passed the checks)"]
    for name, info in report["categories"].items():
        lines.append(f"  {name:22} {info['count']:6}  {info['share_of_rejected']:6.0%} of rejects")
    means = {k: v["mean"] for k, v in report["score_distributions"].items() if v["mean"] is not None}
    if means:
        lines.append("Mean scores: " + ", ".join(f"{k} {v:.2f}" for k, v in means.items()))
    lines += _claim_lines(report.get("unsupported_claims") or {})
    lines += ["Recommendations:"] + [f"  - {r}" for r in report["recommendations"]] \
        if report["recommendations"] else ["No recommendations: nothing was rejected."]
    return lines


def _claim_lines(listing: dict, shown: int = 10) -> list[str]:
    """The first unsupported claims of an error analysis, one line each."""
    if not listing.get("count"):
        return []
    lines = [f"Unsupported claims: {listing['count']} in {listing['samples']} sample(s); the first "
             f"{min(shown, listing['count'])} (all of them are in the JSON report):"]
    for item in listing["claims"][:shown]:
        state = "accepted" if item["accepted"] else "rejected"
        lines.append(f"  {item['source_file']} {item['location']} ({state}): {item['claim'][:100]!r} "
                     f"- not in the source: {', '.join(item['missing'][:3])}")
    return lines


def quality_summary(report: dict) -> list[str]:
    """A file's quality report (quality.file_report) as a few readable lines."""
    means = {k: v["mean"] for k, v in report["distribution"].items() if v["mean"] is not None}
    lines = [f"Quality of {report['examples']} examples (threshold {report['threshold']:.2f}): "
             f"{report['passed']} pass, {report['examples'] - report['passed']} below; "
             f"{report['rejected']} fail a check; {report['no_source']} without source text"]
    if means:
        lines.append("Mean scores: " + ", ".join(f"{k} {v:.2f}" for k, v in means.items()))
    if report["categories"]:
        lines.append("Failures: " + ", ".join(f"{k} {v}" for k, v in report["categories"].items()))
    for item in report["below_threshold"][:5]:
        lines.append(f"  {item['location']}: overall {item['scores']['overall']:.2f} "
                     f"[{', '.join(item['reasons'])}] {item['question']}")
    focus = report["domain_focus"]
    lines.append(f"Domain focus: {focus['focused']}/{report['examples']} reach {focus['threshold']:.2f}"
                 if focus.get("profile") else f"Domain focus: {focus['note']}")
    if report["malformed"]:
        lines.append(f"{len(report['malformed'])} unreadable lines (first: line "
                     f"{report['malformed'][0]['line']}: {report['malformed'][0]['error']})")
    return lines


def export_summary(result: Any) -> list[str]:
    """What an export wrote and whether it is valid for what it is for (first line: the verdict)."""
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    warnings = sum(v.get("warnings_total", 0) for v in result.validation.values())
    head = (f"Exported {result.name} as {result.fmt} ({counts}) to {result.folder}: "
            + (f"valid for {result.target}" if result.valid else f"NOT valid for {result.target}")
            + (f" ({warnings} warning(s))" if warnings else "") + ".")
    lines = [head] + [f"  {role:<12} {path}" for role, path in result.files.items()]
    lines += [f"  problem: {p}" for p in result.problems]
    if not result.valid:
        lines.append("  The files were written; fix the problems above before uploading them "
                     "(details: python -m src.main validate FILE --provider P --model M).")
    return lines


def contamination_summary(report: dict, shown: int = 20) -> list[str]:
    """A decontamination check (quality.decontaminate.check_file) as a few readable lines."""
    lines = [f"Decontamination: {report['contaminated']} of {report['checked']} examples overlap "
             f"{report['eval_records']:,} evaluation record(s) in "
             f"{', '.join(report['eval_files'])}"]
    lines += [f"  {hit['location']}: {hit['match']}" for hit in report["hits"][:shown]]
    if report["contaminated"] > shown:
        lines.append(f"  ... {report['contaminated'] - shown} more (use --json for all)")
    if report["eval_skipped"]:
        lines.append(f"  {len(report['eval_skipped'])} unreadable evaluation line(s) skipped, "
                     f"first: {report['eval_skipped'][0]}")
    return lines
