"""The quality figures of a stored dataset, as plain data: `stats --json`, the stats JSON file, the
HTML report and the dataset card all show these same numbers (`dataset_stats` carries them).

Faithfulness (claims), the LLM judge and its agreement with the offline checks, score
distributions, diversity and coverage, contamination hits, and tokens against the target's limit.
`worst_samples` picks the samples the report shows with their claims marked.
"""

from __future__ import annotations

import statistics
from typing import Any

from src.errors import ConfigError
from src.models import CoverageRow, Example
from src.quality.claims import claim_text, evidence_text
from src.quality.diversity import diversity
from src.quality.error_analysis import score_distributions
from src.quality.judge import agreement
from src.targets.target import TARGETS
from src.utils.text import preview

WORST = 10  # accepted samples shown in the report
WORST_REJECTED = 5  # rejected for unsupported claims
HITS_LISTED = 50  # contamination hits listed


def quality_figures(examples: list[Example], coverage: list[CoverageRow], provider: str,
                    model: str) -> dict[str, Any]:
    """Every quality figure of one dataset (all its stored samples) as JSON-ready data."""
    accepted = [e for e in examples if not e.reasons]
    return {
        "distributions": {"accepted": score_distributions(accepted),
                          "rejected": score_distributions([e for e in examples if e.rejected])},
        "faithfulness": faithfulness_summary(accepted),
        "judge": agreement(examples),
        "diversity": diversity(examples, coverage),
        "contamination": contamination(examples),
        "token_limit": token_limit(accepted, provider, model),
    }


def faithfulness_summary(accepted: list[Example]) -> dict[str, Any]:
    """Claims and faithfulness over the accepted samples."""
    scored = [e.scores["faithfulness"] for e in accepted if "faithfulness" in e.scores]
    claims = [c for e in accepted for c in e.claims]
    return {"samples_checked": len(scored), "samples_not_checked": len(accepted) - len(scored),
            "mean": round(statistics.fmean(scored), 4) if scored else None,
            "fully_supported_share": (round(sum(s == 1.0 for s in scored) / len(scored), 4)
                                      if scored else None),
            "claims": len(claims),
            "claims_supported": sum(c.status == "supported" for c in claims),
            "claims_verbatim": sum(c.status == "verbatim" for c in claims),
            "claims_unsupported": sum(c.status == "unsupported" for c in claims),
            "claims_unchecked": sum(c.status == "unchecked" for c in claims)}


def contamination(examples: list[Example]) -> dict[str, Any]:
    """The samples rejected as contaminated, with what they overlap."""
    hits = [e for e in examples if "contaminated" in e.reasons]
    listed = [{"id": e.id, "source_file": e.source_file, "location": e.location,
               "question": preview(e.question, 120),
               "match": next((n.removeprefix("contaminated: ") for n in e.notes
                              if n.startswith("contaminated: ")), "")} for e in hits[:HITS_LISTED]]
    return {"contaminated": len(hits), "hits": listed}


def token_limit(accepted: list[Example], provider: str, model: str) -> dict[str, Any]:
    """The target's per-example token limit and how close the samples come to it."""
    try:
        limit = TARGETS[provider].get_token_limit(model) if provider in TARGETS else None
    except ConfigError:
        limit = None  # a target no longer in the catalog: the figures still draw, without a limit
    lengths = [e.token_length for e in accepted]
    return {"limit": limit, "max": max(lengths, default=0),
            "over": sum(n > limit for n in lengths) if limit else 0,
            "max_share_of_limit": round(max(lengths, default=0) / limit, 4) if limit else None}


def _segments(example: Example) -> list[dict[str, Any]]:
    """The answer cut at its claims: plain text, and claims with status, evidence and what is missing."""
    answer, at = example.answer, 0
    parts: list[dict[str, Any]] = []
    for claim in sorted(example.claims, key=lambda c: c.start):
        if claim.start < at:
            continue
        if claim.start > at:
            parts.append({"text": answer[at:claim.start]})
        parts.append({"text": claim_text(example, claim), "status": claim.status,
                      "evidence": evidence_text(example, claim), "missing": claim.missing})
        at = claim.end
    if at < len(answer):
        parts.append({"text": answer[at:]})
    return parts


def sample_view(example: Example) -> dict[str, Any]:
    """One sample as the report shows it."""
    return {"id": example.id, "source_file": example.source_file, "location": example.location,
            "origin": example.origin, "question": example.question, "answer": _segments(example),
            "scores": example.scores, "reasons": example.reasons, "judge": example.judge,
            "accepted": not example.reasons}


def worst_samples(examples: list[Example]) -> dict[str, list[dict[str, Any]]]:
    """The weakest accepted samples (least faithful, then lowest judge and overall scores) and
    rejected samples with unsupported claims (whatever rejected them), for a person to look at."""
    def rank(e: Example) -> tuple:
        return (e.scores.get("faithfulness", 1.0), e.scores.get("judge", 1.0),
                e.scores.get("overall", 1.0), e.id)
    accepted = sorted((e for e in examples if not e.reasons), key=rank)[:WORST]
    unsupported = sorted((e for e in examples if e.rejected and any(c.status == "unsupported"
                                                                   for c in e.claims)), key=rank)
    return {"accepted": [sample_view(e) for e in accepted],
            "rejected": [sample_view(e) for e in unsupported[:WORST_REJECTED]]}
