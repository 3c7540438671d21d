"""Error analysis of a dataset (SetForge / Hamel's "look at your failures first").

`analyze` groups the rejected samples by failure category with counts, rates and the worst examples
(with their source file and location), gives histograms of every sub-score, and turns the biggest
categories into concrete recommendations naming the config keys to change.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from src.errors import StorageError
from src.models import Example
from src.quality.claims import claim_text
from src.utils.text import preview

SUB_SCORES = ("overall", "extractive", "detail", "domain", "faithfulness", "judge")
BUCKETS = 10
WORST_PER_CATEGORY = 5
PREVIEW_CHARS = 160
CLAIMS_LISTED = 200  # unsupported claims listed in the report (the count covers all of them)
MIN_SHARE_FOR_ADVICE = 0.05  # categories citing fewer rejects than this get no recommendation

# category -> (score that ranks its worst examples, what it means, what to do)
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "hallucinated_figures": ("extractive", "cite figures or names absent from the source",
                             "lower agent.create.temperature or shorten chunks (chunking.chunk_tokens)"),
    "unsupported_claims": ("faithfulness", "make claims their source does not support",
                           "lower agent.create.temperature, or shorten chunks "
                           "(chunking.chunk_tokens) so each answer stays within one passage"),
    "judge_rejected": ("judge", "were judged ungrounded, not standalone or incomplete by the LLM judge",
                       "read the judge's rationale in the report; lower agent.create.temperature "
                       "or ask fewer questions per chunk"),
    "contaminated": ("overall", "overlap your evaluation sets (--decontaminate)",
                     "nothing to change: they are kept out of training; if many, your documents "
                     "contain the evaluation data itself"),
    "low_extractive": ("extractive", "are poorly grounded in their source",
                       "lower agent.create.temperature, or shorten chunks so answers can quote them"),
    "missing_details": ("detail", "lack concrete details (figures, dates, names, steps)",
                        "add \"numbers and dates\" to agent.create.question_types or use longer chunks"),
    "poor_domain_focus": ("domain", "miss the domain profile",
                          "feed documents on the domain, or widen quality.domain.keywords and entities"),
    "no_answer_in_context": ("overall", "say the source does not hold the answer",
                             "ask fewer questions per chunk (agent.create.questions_per_chunk)"),
    "irrelevant": ("overall", "share almost nothing with their source",
                   "check the input files (navigation, boilerplate) and raise chunking.min_chunk_tokens"),
    "language_mismatch": ("overall", "are not in the expected language",
                          "set quality.target_language or write the prompt in the documents' language"),
    "duplicate": ("overall", "duplicate another sample",
                  "raise agent.create.variety, add personas, or ask fewer questions per chunk"),
    "malformed_output": ("overall", "came back malformed from the agent LLM",
                         "use a stronger agent model (system.agentic_model) or lower the temperature"),
    "over_token_limit": ("overall", "exceed the target's per-example token limit",
                         "lower chunking.chunk_tokens or agent.create.turns"),
    "prompt_injection": ("overall", "carry an instruction to the model where a question belongs",
                         "check the named source files for injected text and remove it"),
    "question_off_source": ("overall", "ask about something their source passage never mentions",
                            "lower agent.create.temperature, or check the input files for "
                            "instructions aimed at the model"),
}


def _histogram(values: list[float]) -> dict:
    counts = [0] * BUCKETS
    for value in values:
        counts[min(BUCKETS - 1, max(0, int(value * BUCKETS)))] += 1
    labels = [f"{i / BUCKETS:.1f}-{(i + 1) / BUCKETS:.1f}" for i in range(BUCKETS)]
    ordered = sorted(values)
    return {"buckets": dict(zip(labels, counts)), "count": len(values),
            "mean": round(sum(values) / len(values), 4) if values else None,
            "median": round(ordered[len(ordered) // 2], 4) if values else None}


def score_distributions(examples: list[Example]) -> dict[str, dict]:
    """A 10-bucket histogram, mean and median of every sub-score over the scored examples."""
    return {name: _histogram([e.scores[name] for e in examples if name in e.scores])
            for name in SUB_SCORES}


def example_summary(example: Example) -> dict:
    """The fields of one example a person needs to judge it."""
    return {"id": example.id, "source_file": example.source_file, "location": example.location,
            "mode": example.mode, "question": preview(example.question, PREVIEW_CHARS, "..."),
            "answer": preview(example.answer, PREVIEW_CHARS, "..."), "scores": example.scores,
            "reasons": example.reasons, "notes": example.notes,
            "unsupported_claims": unsupported_claims(example)}


def unsupported_claims(example: Example) -> list[dict]:
    """The claims of `example` its source does not support, with what the source lacks."""
    return [{"claim": claim_text(example, c), "missing": c.missing}
            for c in example.claims if c.status == "unsupported"]


def _worst(examples: list[Example], category: str) -> list[dict]:
    score = CATEGORIES.get(category, ("overall",))[0]
    ranked = sorted(examples, key=lambda e: e.scores.get(score, e.scores.get("overall", 0.0)))
    return [example_summary(e) for e in ranked[:WORST_PER_CATEGORY]]


def _categories(rejected: list[Example], total: int) -> dict[str, dict]:
    members: dict[str, list[Example]] = {}
    for example in rejected:
        for reason in example.reasons:
            members.setdefault(reason, []).append(example)
    ordered = sorted(members.items(), key=lambda item: -len(item[1]))
    return {name: {"count": len(group), "share_of_rejected": round(len(group) / len(rejected), 4),
                   "share_of_all": round(len(group) / total, 4),
                   "meaning": CATEGORIES.get(name, ("", "", ""))[1],
                   "worst": _worst(group, name)} for name, group in ordered}


def recommendations(categories: dict[str, dict], acceptance_rate: float) -> list[str]:
    """Concrete advice for the largest failure categories, most frequent first."""
    advice = []
    for name, info in categories.items():
        share = info["share_of_rejected"]
        if share < MIN_SHARE_FOR_ADVICE:
            continue
        _, meaning, action = CATEGORIES.get(name, ("", f"are rejected as {name}", "inspect them"))
        advice.append(f"{share:.0%} of rejects {meaning} ({info['count']}): {action}.")
    if categories and acceptance_rate < 0.5:
        advice.append(f"Only {acceptance_rate:.0%} of samples passed the checks: fix the first "
                      "item above before spending more on generation.")
    return advice


def analyze(examples: list[Example]) -> dict:
    """Counts and rates per category, worst examples, score distributions and recommendations.

    Surplus samples (good, beyond the size asked for) are no rejects: they count as passing and
    are reported apart, so they never turn into "few accepted" advice.
    """
    total = len(examples)
    rejected = [e for e in examples if e.rejected]
    surplus = sum(1 for e in examples if e.surplus)
    accepted_count = total - len(rejected) - surplus
    rate = (accepted_count + surplus) / total if total else 0.0
    categories = _categories(rejected, total) if rejected else {}
    return {"total": total, "accepted": accepted_count, "rejected": len(rejected),
            "surplus": surplus, "acceptance_rate": round(rate, 4), "categories": categories,
            "by_mode": _by_field(examples, "mode"), "by_source": _by_field(examples, "source_file"),
            "score_distributions": score_distributions(examples),
            "unsupported_claims": claim_listing(examples),
            "recommendations": recommendations(categories, rate)}


def claim_listing(examples: list[Example], limit: int = CLAIMS_LISTED) -> dict:
    """Every unsupported claim (the first `limit`, least faithful samples first), with its sample."""
    ranked = sorted((e for e in examples if any(c.status == "unsupported" for c in e.claims)),
                    key=lambda e: (e.scores.get("faithfulness", 1.0), e.id))
    listed = [{"id": e.id, "source_file": e.source_file, "location": e.location,
               "accepted": not e.rejected, **claim}
              for e in ranked for claim in unsupported_claims(e)]
    return {"count": len(listed), "samples": len(ranked), "claims": listed[:limit]}


def _by_field(examples: list[Example], field: str) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = {"accepted": Counter(), "rejected": Counter(),
                                  "surplus": Counter()}
    for e in examples:
        state = "surplus" if e.surplus else "rejected" if e.rejected else "accepted"
        counts[state][getattr(e, field) or "(none)"] += 1
    keys = sorted(set().union(*counts.values()), key=lambda k: -counts["rejected"][k])
    return {k: {state: counter[k] for state, counter in counts.items()} for k in keys}


def write_report(report: dict, path: Path) -> Path:
    """Write the report as UTF-8 JSON (creating folders); raises StorageError naming the path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"Cannot write the error report {path} ({exc.strerror or exc}). "
                           "Choose another --output path or free some disk space.") from None
    return path
