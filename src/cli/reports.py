"""Text shown before and after a run (the menu and `generate` print the same)."""

from __future__ import annotations

import time
from pathlib import Path

from src.config import agent_choice, base_url
from src.masking import mask_url
from src.pipeline.batch import BatchReport
from src.pipeline.plan import Plan
from src.pipeline.result import RunResult
from src.providers.batch_api import describe_batch_estimate
from src.providers.batch_client import BATCH_PROVIDERS
from src.providers.budget import usd
from src.utils.text import strip_source_tags


def describe_plan(plan: Plan) -> list[str]:
    """The confirmation screen: what was read, what was skipped, what the run will do and cost."""
    config = plan.config
    lines = [f"Target: {config.provider}/{config.model}   mode: {config.mode}   "
             f"samples wanted: {plan.size}   dataset: {config.output_name}"]
    lines.append(f"Read {len(plan.read)} document(s); skipped {len(plan.skipped)}.")
    for failure in plan.skipped:
        lines.append(f"  skipped {failure.path}: {failure.reason}")
    if plan.extracted:
        lines.append(f"Found {len(plan.extracted)} existing conversation(s) to extract verbatim.")
    if plan.size_cap is not None:
        lines.append(plan.size_cap.message)
    if plan.chunks:
        most = (f"; they can give at most {plan.capacity:,} pairs" if plan.capacity else "")
        lines.append(f"{len(plan.chunks)} chunk(s) of up to {config.chunking.chunk_tokens} "
                     f"tokens{most}.")
    if plan.needs_llm:
        provider, model = agent_choice(config)
        url = base_url(provider, config)
        where = f" at {mask_url(url)}" if url else ""
        lines.append(f"Agent LLM: {provider}/{model}{where}. Document text is sent to it.")
    if plan.estimate is not None:
        lines.append("Estimate: " + plan.estimate.describe()
                     + f" (budget cap {usd(config.budget_usd)})")
        if config.system.batch or offers_batch(plan):
            lines.append(("Batch API (--batch): " if not config.system.batch else
                          "Batch mode: ") + describe_batch_estimate(plan.estimate,
                                                                    agent_choice(config)[0]))
    lines += [f"Note: {strip_source_tags(m)}" for m in plan.messages]
    return lines


def offers_batch(plan: Plan) -> bool:
    """True when this run could go through a Batch API (a provider that has one, local engine)."""
    return (plan.needs_llm and plan.config.system.engine == "local"
            and agent_choice(plan.config)[0] in BATCH_PROVIDERS)


def describe_batch(report: BatchReport) -> list[str]:
    """Where a batch run stands: what was submitted or collected, and how to go on."""
    lines = list(report.lines)
    if report.result is not None:
        return lines + describe_result(report.result)
    if report.state == "cancelled":
        return lines
    command = f"python -m src.main batches {report.dataset}"
    lines.append(f"Batch run of {report.dataset!r} is in progress ({report.state}). Nothing "
                 f"needs to stay open: `{command}` (or the same generate command) collects "
                 f"what has ended and submits the next round; `{command} --wait` follows it "
                 "to the end.")
    return lines


def wait_lines(report: BatchReport) -> list[str]:
    """The progress lines of --wait after one poll: what each batch did, with the time."""
    stamp = time.strftime("%H:%M:%S")
    return [f"[{stamp}] {report.dataset}: {line}" for line in report.lines or [report.state]]


def describe_result(result: RunResult) -> list[str]:
    """The closing summary of a run."""
    c, summary = result.counts, result.summary
    surplus = (f", {c['surplus']} surplus (good, beyond the size asked for: kept for a run "
               "with a larger size)" if c.get("surplus") else "")
    tokens = (f"{result.tokens:,}" if summary.get("tokens_exact", True)
              else f"~{result.tokens:,} (estimate: no offline tokenizer for this target)")
    lines = [f"Dataset {result.name!r} ({result.target}, {result.mode}): {c['samples']} samples "
             f"(train {c['train']}, validation {c['validation']}), {c['rejected']} rejected"
             f"{surplus}.",
             f"Tokens: {tokens}   requests: {result.requests}   "
             f"cost: ${result.cost_usd:.4f}"
             + (f"   per accepted pair: ${result.cost_usd / c['samples']:.5f}"
                if c["samples"] and result.cost_usd else "")
             + (f"   accepted pairs per request: {c['samples'] / result.requests:.2f}"
                if result.requests else "")]
    lines += _summary_notes(summary)
    network = _network(summary.get("network") or {}, summary.get("cached_input_tokens", 0))
    lines += [network] if network else []
    if summary.get("seconds") is not None:
        estimated = summary.get("estimated_seconds")
        unknown = (estimated is not None and summary.get("pace_known") is False
                   and abs(estimated - summary["seconds"]) > 0.25 * summary["seconds"])
        lines.append(f"Took {_seconds(summary['seconds'])}" + (
            f" (estimated {_seconds(estimated)})" if estimated is not None else "")
            + ("; this server's pace was not known before this run: the next estimate uses "
               "what it measured." if unknown else "."))
    if result.failures:
        lines.append("Failed work items: " + ", ".join(f"{k} {v}"
                                                      for k, v in result.failures.items()))
    if result.stopped_reason:
        lines.append(f"Stopped early: {result.stopped_reason}. Everything produced is saved; "
                     "run the same command again to continue.")
    lines += [f"Warning: {strip_source_tags(w)}" for w in result.warnings]
    lines.append("Files:")
    lines += [f"  {kind}: {path}" for kind, path in result.files.items()]
    if "report" in result.files:
        lines.append(f"Report (charts, claims, judge, diversity): {Path(result.files['report']).as_uri()}")
    lines.append(f"Next: `python -m src.main stats {result.name}` for statistics, "
                 f"`python -m src.main analyze-errors {result.name}` for the rejects.")
    return lines


def _network(counts: dict, cached: int) -> str:
    """Timeouts, 429s, server errors and retries of the run's requests; cached prompt tokens."""
    names = (("timeouts", "timed out"), ("rate_limited_429", "429 (rate limited)"),
             ("server_errors", "server error"), ("connection_errors", "connection failed"))
    failed = [f"{counts[key]} {label}" for key, label in names if counts.get(key)]
    parts = []
    if failed or counts.get("retries"):
        parts.append(f"Network: {', '.join(failed) or 'no try failed'}; "
                     f"{counts.get('retries', 0)} tried again")
    if cached:
        parts.append(f"{cached:,} prompt tokens read from the provider's cache (at its price)")
    return "; ".join(parts) + "." if parts else ""


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _summary_notes(summary: dict) -> list[str]:
    """Price, reasons, reused surplus and hybrid's mix, each when there is something to say."""
    lines = []
    if summary.get("agent_price"):
        lines.append(f"Agent price: {summary['agent_price']}")
    reasons = summary.get("rejected_by_reason") or {}
    if reasons:
        lines.append("Rejected by reason: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    if reasons.get("contaminated"):
        lines.append(f"{reasons['contaminated']} sample(s) overlap your evaluation sets and were left "
                     "out; each is listed in the report and by analyze-errors.")
    if summary.get("surplus_reused"):
        lines.append(f"Reused {summary['surplus_reused']} surplus sample(s) kept by an earlier run "
                     "(not paid for again).")
    mix = summary.get("mix")
    if mix:
        lines.append(f"Mix: {mix['identified']} identified + {mix['created']} created.")
    return lines
