"""A run that ends below the size asked for says so: how far, why, and what to change."""

from __future__ import annotations

from src.agents.create_agent import MAX_PASSES
from src.models import Example, reason_counts
from src.pipeline.processor import RunLog

TOP_REASONS = 3  # rejection reasons named in the message


def shortfall(log: RunLog, made: int, rejected: list[Example]) -> dict | None:
    """{"asked", "made", "reason", "message"} when the dataset holds fewer samples than the run
    asked for; None when it holds them all."""
    plan = log.plan
    asked = plan.size
    if made >= asked:
        return None
    reason, change = _why(log, rejected)
    message = (f"Made {made:,} of the {asked:,} samples asked for: {reason}. To get more: "
               f"{change}.")
    return {"asked": asked, "made": made, "reason": reason, "message": message}


def _why(log: RunLog, drafts: list[Example]) -> tuple[str, str]:
    """(why the run fell short, what to change)."""
    plan, config = log.plan, log.config
    reasons = list(reason_counts(drafts).items())[:TOP_REASONS]
    rejects = ", ".join(f"{k} {v}" for k, v in reasons)
    rejected = f"; {len(drafts):,} drafts were rejected ({rejects})" if drafts else ""
    if log.stopped_reason:
        return (f"the run stopped ({log.stopped_reason})",
                "fix what stopped it and run the same command again (answers already paid "
                "for are not paid again)")
    if config.mode == "identify":
        return (f"the documents hold only so many conversations to extract{rejected}",
                "add documents, or use --mode hybrid or create to write more from them")
    failed = log.failure_counts()
    listed = ", ".join(f"{n} {k}" for k, n in failed.items())
    again = ("run the same command again (the failed work items are retried; finished ones are "
             "cached)")
    if log.work_left == 0:
        most = config.agent.create.questions_per_chunk
        items = f"; {sum(failed.values()):,} work item(s) failed ({listed})" if failed else ""
        return (f"the {len(plan.chunks):,} chunks ran out: each was asked about {MAX_PASSES} "
                f"times, {plan.capacity:,} questions at most{items}{rejected}",
                (f"{again}, " if failed else "") + "add documents, raise "
                f"agent.create.questions_per_chunk (now {most}) if the passages are long, or see "
                f"`python -m src.main analyze-errors {plan.config.output_name}` for what the "
                "quality checks rejected")
    if failed:
        return (f"{sum(failed.values()):,} work item(s) failed ({listed}){rejected}", again)
    return (f"the chunks gave fewer pairs than expected{rejected}",
            "run the same command again, or add documents")
