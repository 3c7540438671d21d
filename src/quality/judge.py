"""The grounded LLM judge (`quality.llm_judge: true`).

The agent LLM is shown the source chunk and answers four yes/no questions about each sample, with a
one-sentence rationale:

- answerable: can the question be answered from the source alone?
- supported: is every statement of the answer backed by the source?
- standalone: does the question make sense to someone who has not seen the source?
- complete: does the answer fully answer the question?

The samples of one chunk are judged together, up to JUDGE_BATCH per request, so the chunk is sent
once. Requests go through the LLM client like every paid answer: counted in the pre-run estimate
(`judge_load`), reserved against `budget_usd`, cached for resume (temperature 0: a re-run asks the
same and pays nothing). The judge score is the share of "yes"; a "no" to either grounding question
(answerable, supported), or a score under `quality.thresholds.judge`, rejects the sample as
`judge_rejected`. Samples the offline checks already rejected are judged along with their chunk's
others, as an audit (`agreement` reports how often judge and offline checks agree), and are not
rejected twice. Only synthetic samples with a source are judged: verbatim samples are the
document's own text.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from src.config import QualityConfig
from src.errors import AuthError, BudgetExhausted, BuilderError
from src.models import Example
from src.quality.scores import QUALITY_REASONS, score_example

JUDGE_BATCH = 5  # samples per request
RUBRIC = ("answerable", "supported", "standalone", "complete")
GROUNDING = ("answerable", "supported")  # a "no" to either rejects
GROUNDING_REASONS = frozenset({"hallucinated_figures", "unsupported_claims", "low_extractive",
                               "no_answer_in_context", "irrelevant"})
PROMPT_TOKENS = 330  # the instructions and schema, for the estimate
SAMPLE_TOKENS = 170  # one question and answer as shown to the judge
VERDICT_TOKENS = 70  # one verdict with its rationale
SYSTEM = (
    "You review training data for fine-tuning. You get one source passage and numbered "
    "conversations written from it. Judge each one using only the passage, never outside "
    "knowledge, and answer four yes/no questions:\n"
    "answerable: can the (first) question be answered from the passage alone?\n"
    "supported: is every statement of the answer backed by the passage, with no added facts, "
    "figures or names?\n"
    "standalone: does the question make sense to someone who has not seen the passage (no "
    "'the passage', 'the text', 'this document', 'the above')?\n"
    "complete: does the answer fully answer the question?\n"
    "Add a one-sentence rationale that names the unsupported statement or what is missing (for "
    "a conversation that passes all four, say so briefly). Return one verdict per conversation, "
    "with its number as index.")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"verdicts": {"type": "array", "items": {
        "type": "object",
        "properties": {"index": {"type": "integer"},
                       **{name: {"type": "boolean"} for name in RUBRIC},
                       "rationale": {"type": "string"}},
        "required": ["index", *RUBRIC, "rationale"], "additionalProperties": False}}},
    "required": ["verdicts"], "additionalProperties": False,
}


class Reply(Protocol):
    data: dict


class JudgeClient(Protocol):
    """What the judge needs of the LLM client (providers.llm_client.LLMClient)."""

    async def complete_json(self, system: str, user: str, schema: dict, *, schema_name: str = ...,
                            temperature: float = ..., max_tokens: int = ...) -> Reply: ...


@dataclass
class JudgeRun:
    """What one judging pass did: requests made, samples judged, failures, why it stopped."""

    requests: int = 0
    judged: int = 0
    failures: list[tuple[str, BuilderError]] = field(default_factory=list)  # (chunk id, error)
    stopped_reason: str = ""


def judge_load(slots: int, per_slot: int, chunk_tokens: float) -> tuple[int, int, int]:
    """(requests, input tokens, output tokens) to judge `per_slot` samples of each of `slots`
    chunk passes: the pre-run estimate's share for the judge."""
    requests = slots * math.ceil(per_slot / JUDGE_BATCH)
    samples = slots * per_slot
    return (requests, int(requests * (chunk_tokens + PROMPT_TOKENS) + samples * SAMPLE_TOKENS),
            samples * VERDICT_TOKENS)


def _judgeable(example: Example) -> bool:
    return (example.origin != "extracted" and bool(example.context.strip())
            and bool(example.turns) and all(t.content.strip() for t in example.turns))


def _batches(examples: list[Example], config: QualityConfig) -> list[list[Example]]:
    """Judgeable samples, scored offline first, grouped by chunk; chunks with nothing left to
    decide (all already rejected) are not sent."""
    groups: dict[str, list[Example]] = {}
    for example in examples:
        if not _judgeable(example) or example.judge:
            continue
        if not example.reasons:
            score_example(example, config)
        if all(r in QUALITY_REASONS for r in example.reasons):
            groups.setdefault(example.context, []).append(example)
    batches = []
    for group in groups.values():
        if any(not e.reasons for e in group):
            batches += [group[i:i + JUDGE_BATCH] for i in range(0, len(group), JUDGE_BATCH)]
    return batches


def prompt(batch: list[Example]) -> str:
    """The user message: the passage once, then each conversation numbered from 1."""
    parts = [f'Source passage:\n"""\n{batch[0].context}\n"""\n\nConversations to judge: {len(batch)}']
    for number, example in enumerate(batch, start=1):
        turns = "\n".join(f"{'User' if t.role == 'user' else 'Assistant'}: {t.content}"
                          for t in example.turns)
        parts.append(f"### Conversation {number}\n{turns}")
    return "\n\n".join(parts)


def _by_index(verdicts: list[dict], count: int) -> dict[int, dict]:
    """Verdicts by conversation number (1..count); a model that numbered from 0 is understood."""
    numbers = [v.get("index") for v in verdicts]
    shift = 1 if set(numbers) == set(range(count)) else 0
    found: dict[int, dict] = {}
    for verdict in verdicts:
        number = verdict.get("index")
        if isinstance(number, int) and 1 <= number + shift <= count:
            found.setdefault(number + shift, verdict)
    return found


def apply_verdict(example: Example, verdict: dict, config: QualityConfig) -> None:
    """Store the verdict and the judge score; reject a sample the offline checks accepted when
    the judge says it is not grounded, or scores it under quality.thresholds.judge."""
    answers = {name: bool(verdict.get(name)) for name in RUBRIC}
    rationale = str(verdict.get("rationale", "")).strip()[:400]
    example.judge = {**answers, "rationale": rationale}
    score = sum(answers.values()) / len(RUBRIC)
    example.scores["judge"] = round(score, 4)
    failed = [name for name in RUBRIC if not answers[name]]
    example.notes.append(f"judge {score:.2f}: " + (f"no to {', '.join(failed)}" if failed else "yes to all")
                         + (f" ({rationale})" if rationale else ""))
    rejects = any(not answers[name] for name in GROUNDING) or score < config.thresholds.judge
    if rejects and not example.reasons and config.enabled:
        example.reasons.append("judge_rejected")


async def _judge_batch(batch: list[Example], client: JudgeClient, config: QualityConfig,
                       run: JudgeRun) -> None:
    if run.stopped_reason:
        for example in batch:
            example.notes.append(f"judge: not judged ({run.stopped_reason})")
        return
    try:
        reply = await client.complete_json(SYSTEM, prompt(batch), SCHEMA, schema_name="verdicts",
                                           temperature=0.0,
                                           max_tokens=100 + 2 * VERDICT_TOKENS * len(batch))
    except BuilderError as exc:
        if isinstance(exc, BudgetExhausted | AuthError) and not run.stopped_reason:
            run.stopped_reason = "budget" if isinstance(exc, BudgetExhausted) else f"auth: {exc}"
        run.failures.append((f"judge:{batch[0].chunk_id or batch[0].source_file}", exc))
        for example in batch:
            example.notes.append(f"judge: not judged ({exc.__class__.__name__})")
        return
    run.requests += 1
    verdicts = _by_index(list(reply.data.get("verdicts") or []), len(batch))
    for number, example in enumerate(batch, start=1):
        if number in verdicts:
            apply_verdict(example, verdicts[number], config)
            run.judged += 1
        else:
            example.notes.append(f"judge: no verdict came back for it ({len(verdicts)} of "
                                 f"{len(batch)} in its request)")


async def judge_examples(examples: list[Example], client: JudgeClient,
                         config: QualityConfig) -> JudgeRun:
    """Judge the synthetic samples of one batch (see the module docstring); never raises for a
    failed request: its samples stay unjudged, with a note, and the failure is returned."""
    run = JudgeRun()
    await asyncio.gather(*(_judge_batch(b, client, config, run) for b in _batches(examples, config)))
    return run


def agreement(examples: list[Example]) -> dict:
    """How often the judge's grounding verdict and the offline grounding checks agree."""
    cells = {"both_pass": 0, "judge_only_fails": 0, "offline_only_fails": 0, "both_fail": 0}
    yes = dict.fromkeys(RUBRIC, 0)
    judged = [e for e in examples if e.judge]
    for example in judged:
        offline = not GROUNDING_REASONS & set(example.reasons)
        judge = all(example.judge.get(name) for name in GROUNDING)
        key = {(True, True): "both_pass", (True, False): "judge_only_fails",
               (False, True): "offline_only_fails", (False, False): "both_fail"}[(offline, judge)]
        cells[key] += 1
        for name in RUBRIC:
            yes[name] += bool(example.judge.get(name))
    agree = cells["both_pass"] + cells["both_fail"]
    return {"judged": len(judged), "agreement": round(agree / len(judged), 4) if judged else None,
            **cells, "yes_share": {n: round(v / len(judged), 4) if judged else None
                                   for n, v in yes.items()}}
