"""Text shown before and after a run (the menu and `generate` print the same)."""

from __future__ import annotations

from pathlib import Path

from src.config import agent_choice
from src.pipeline.plan import Plan
from src.pipeline.result import RunResult


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
        lines.append(f"{len(plan.chunks)} chunk(s) of up to {config.chunking.chunk_tokens} tokens.")
    if plan.needs_llm:
        provider, model = agent_choice(config)
        lines.append(f"Agent LLM: {provider}/{model}. Document text is sent to it.")
    if plan.estimate is not None:
        lines.append("Estimate: " + plan.estimate.describe()
                     + f" (budget cap ${config.budget_usd:.2f})")
    lines += [f"Note: {m}" for m in plan.messages]
    return lines


def describe_result(result: RunResult) -> list[str]:
    """The closing summary of a run."""
    c = result.counts
    lines = [f"Dataset {result.name!r} ({result.target}, {result.mode}): {c['samples']} samples "
             f"(train {c['train']}, validation {c['validation']}), {c['rejected']} rejected.",
             f"Tokens: {result.tokens:,}   requests: {result.requests}   "
             f"cost: ${result.cost_usd:.4f}"
             + (f"   per accepted pair: ${result.cost_usd / c['samples']:.5f}"
                if c["samples"] and result.cost_usd else "")
             + (f"   accepted pairs per request: {c['samples'] / result.requests:.2f}"
                if result.requests else "")]
    reasons = result.summary.get("rejected_by_reason") or {}
    if reasons:
        lines.append("Rejected by reason: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    if reasons.get("contaminated"):
        lines.append(f"{reasons['contaminated']} sample(s) overlap your evaluation sets and were left "
                     "out; each is listed in the report and by analyze-errors.")
    if result.failures:
        lines.append("Failed work items: " + ", ".join(f"{k} {v}"
                                                      for k, v in result.failures.items()))
    if result.stopped_reason:
        lines.append(f"Stopped early: {result.stopped_reason}. Everything produced is saved; "
                     "run the same command again to continue.")
    lines += [f"Warning: {w}" for w in result.warnings]
    lines.append("Files:")
    lines += [f"  {kind}: {path}" for kind, path in result.files.items()]
    if "report" in result.files:
        lines.append(f"Report (charts, claims, judge, diversity): {Path(result.files['report']).as_uri()}")
    lines.append(f"Next: `python -m src.main stats {result.name}` for statistics, "
                 f"`python -m src.main analyze-errors {result.name}` for the rejects.")
    return lines
