"""The stages after the agents: measure, score, dedup, cap, save — then validate, split, export.

`Processor.add()` takes each batch of new examples as the agents produce them and saves it at once
(accepted and rejected alike, with reasons), so nothing produced is lost if the run stops.
`Processor.finalize()` runs the whole-dataset stages. `RunLog` keeps the run's row and failures.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from src.config import Config
from src.persistence.models import Example
from src.persistence.sqlite_client import Database


@dataclass
class RunLog:
    """Bookkeeping of one run: its dataset, failures, why it stopped, what the client spent."""

    db: Database
    config: Config
    plan: Any
    run_id: str
    dataset_id: str
    failures: list = field(default_factory=list)
    stopped_reason: str = ""
    client_totals: dict = field(default_factory=dict)
    client: Any = None  # the LLM client while the run uses one (for live cost)

    @classmethod
    def start(cls, db: Database, config: Config, plan: Any, run_id: str) -> RunLog:
        from src.utils.paths import safe_output_name

        name = safe_output_name(config.output_name)
        dataset_id = db.upsert_dataset(name, config.provider, config.model, config.mode,
                                       config.to_dict())
        db.start_run(run_id, dataset_id)
        return cls(db, config, plan, run_id, dataset_id)

    def add_failures(self, failures: list) -> None:
        for failure in failures:
            self.failures.append(failure)
            self.db.record_failure(self.run_id, failure.item, failure.category, failure.message)

    def finish(self, status: str) -> None:
        totals = self.client_totals
        self.db.finish_run(self.run_id, status, int(totals.get("requests_sent", 0)),
                           int(totals.get("input_tokens", 0)), int(totals.get("output_tokens", 0)),
                           float(totals.get("cost_usd", 0.0)),
                           {"stopped_reason": self.stopped_reason,
                            "failures": self.failure_counts()})

    def failure_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for failure in self.failures:
            counts[failure.category] += 1
        return dict(counts)


# Threshold failures that verbatim samples are kept despite (see quality.filter_extracted).
SOFT_REASONS = {"low_extractive", "missing_details", "poor_domain_focus", "irrelevant",
                "hallucinated_figures", "no_answer_in_context"}


class Processor:
    """Turns agent output into stored samples, batch by batch, and finishes the dataset."""

    def __init__(self, config: Config, db: Database, log: RunLog, size: int, progress: bool):
        from src.providers import targets
        from src.utils.formatter import native_format
        from src.utils.monitor import QualityMonitor

        self.config, self.db, self.log, self.size = config, db, log, size
        self.fmt = native_format(config.provider)
        self.token_limit = targets.TARGETS[config.provider].get_token_limit(config.model)
        self.name = db.get_dataset(log.dataset_id)["name"]
        stored = db.load_examples(log.dataset_id, status=None)
        self.stored_ids = {ex.id for ex in stored}
        self.accepted = [ex for ex in stored if not ex.reasons]
        self.monitor = QualityMonitor(size, config.budget_usd)
        self.bar = tqdm(total=size, initial=min(len(self.accepted), size), desc="accepted",
                        unit="pair", file=sys.stderr, disable=not progress, dynamic_ncols=True)

    @property
    def accepted_count(self) -> int:
        return len(self.accepted)

    def acceptance_rate(self, default: float) -> float:
        scored, accepted = self.monitor.scored, self.monitor.accepted  # this run's new samples
        return accepted / scored if scored >= 10 else default

    def on_progress(self, examples: list[Example]) -> None:
        """Called as each work item finishes (before scoring): keeps the live line moving."""
        self.monitor.update(cost_usd=self._cost(), error=not examples)
        self.bar.set_postfix_str(self.monitor.line(), refresh=True)

    def _cost(self) -> float:
        client = getattr(self.log, "client", None)
        return float(client.totals.get("cost_usd", 0.0)) if client else 0.0

    def add(self, examples: list[Example], limit: int) -> None:
        """Measure, score, dedup and cap a batch of new examples, then save all of them."""
        from src.utils.dedup import deduplicate
        from src.utils.quality import score_example

        for ex in examples:  # ids are per dataset: two datasets of one input must not share rows
            ex.id = dataset_sample_id(self.name, ex.id)
        new = [ex for ex in examples if ex.id not in self.stored_ids]
        for ex in new:
            self._measure(ex)
            if not ex.reasons:  # with quality.enabled off this scores and notes, rejecting nothing
                score_example(ex, self.config.quality)
                self._keep_verbatim(ex)
        candidates = [ex for ex in new if not ex.reasons]
        kept, _dropped = deduplicate(candidates, self.config.quality.near_duplicate_threshold,
                                     existing=self.accepted)
        for ex in _over_cap(kept, limit - len(self.accepted)):
            ex.reasons.append("over_size_cap")
            ex.notes.append(f"the dataset already has its {limit} samples")
        self._save(new)

    def _keep_verbatim(self, ex: Example) -> None:
        """Extracted text is the user's own: thresholds inform, they do not reject (by default)."""
        if ex.origin != "extracted" or self.config.quality.filter_extracted or not ex.reasons:
            return
        soft = [r for r in ex.reasons if r in SOFT_REASONS]
        if soft:
            ex.notes.append("below the quality thresholds (" + ", ".join(soft) + ") but kept: "
                            "verbatim from your document (quality.filter_extracted is off)")
            ex.reasons = [r for r in ex.reasons if r not in SOFT_REASONS]

    def _measure(self, ex: Example) -> None:
        from src.utils.formatter import format_example
        from src.utils.token_counter import count_example_tokens

        if not ex.turns or not all(t.content for t in ex.turns):
            return
        ex.token_length = count_example_tokens(format_example(ex, self.fmt), self.config.provider,
                                               self.config.model)
        if self.token_limit and ex.token_length > self.token_limit:
            ex.reasons.append("over_token_limit")
            ex.notes.append(f"{ex.token_length} tokens, over the {self.token_limit}-token limit "
                            f"of {self.config.model}")

    def _save(self, new: list[Example]) -> None:
        self.db.save_examples(self.log.dataset_id, new)
        accepted = [ex for ex in new if not ex.reasons]
        self.accepted += accepted
        self.stored_ids.update(ex.id for ex in new)
        for ex in new:
            self.monitor.update(example=ex, cost_usd=self._cost())
        self.bar.update(min(len(accepted), max(0, self.size - self.bar.n)))
        self.bar.set_postfix_str(self.monitor.line(), refresh=True)

    def close(self) -> None:
        self.bar.close()

    def finalize(self) -> Any:
        """Validate, split, store splits and coverage, export, and build the run summary."""
        return finish_dataset(self)


def dataset_sample_id(dataset_name: str, agent_id: str) -> str:
    """The stored id of an agent's sample in one dataset (deterministic, so resume finds it)."""
    from src.agents.base_agent import stable_id

    return stable_id(dataset_name, agent_id)


def _over_cap(kept: list[Example], room: int) -> list[Example]:
    """The examples that do not fit in `room`: keep the best, spread across source files."""
    if room >= len(kept):
        return []
    from src.agents.base_agent import round_robin

    by_source: dict[str, list[Example]] = defaultdict(list)
    for ex in sorted(kept, key=lambda e: -e.scores.get("overall", 0.0)):
        by_source[ex.source_file].append(ex)
    chosen_ids = {ex.id for ex in round_robin(list(by_source.values()))[:max(room, 0)]}
    return [ex for ex in kept if ex.id not in chosen_ids]


# ---------------------------------------------------------------- whole-dataset stages

VALIDATION_REASON = {"tokens": "over_token_limit"}  # validator rule keyword → failure category


def _validate(processor: Processor, accepted: list[Example]) -> tuple[list[Example], list[str]]:
    """Reject examples whose formatted line breaks a target rule; dataset-level issues → warnings."""
    from src.utils.formatter import format_example
    from src.utils.validator import validate_records

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
        row["rejected" if ex.reasons else "accepted"] += 1
    return list(rows.values())


def _reason_counts(examples: list[Example]) -> dict[str, int]:
    """How many stored samples carry each rejection reason, most frequent first."""
    counts: dict[str, int] = defaultdict(int)
    for ex in examples:
        for reason in ex.reasons:
            counts[reason] += 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def _nothing_produced(log: RunLog) -> Exception:
    """The error for a run whose every work item failed: the first failure says what to fix."""
    from src.errors import AuthError, ProviderError

    counts = ", ".join(f"{n} {category}" for category, n in log.failure_counts().items())
    auth = [f for f in log.failures if f.category == "auth"]
    first = (auth or log.failures)[0]
    message = (f"No samples were produced: work items failed ({counts}). "
               f"First failure: {first.message}")
    return AuthError(message) if auth else ProviderError(message)


def finish_dataset(processor: Processor) -> Any:
    """Validation, split, coverage, export and error report over everything stored for the dataset."""
    from src.pipeline import RunResult
    from src.utils import error_analysis
    from src.utils.exporter import export_dataset
    from src.utils.splitter import split

    db, config, log = processor.db, processor.config, processor.log
    everything = db.load_examples(log.dataset_id, status=None)  # once: later stages update these
    accepted = [ex for ex in everything if not ex.reasons]
    if not accepted and log.failures:
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
    name = processor.name
    exported = export_dataset(name, db, fmt=config.output.format,
                              include_csv=config.output.include_csv,
                              include_stats=config.output.include_stats)
    files = {k: str(v) for k, v in exported.files.items()}
    report = error_analysis.analyze(everything)
    files["errors"] = str(error_analysis.write_report(report, error_analysis.errors_path(name)))
    totals = log.client_totals
    counts = {"samples": len(accepted), "train": len(result.train),
              "validation": len(result.validation),
              "rejected": sum(1 for ex in everything if ex.reasons)}
    return RunResult(
        dataset_id=log.dataset_id, name=name, mode=config.mode,
        target=f"{config.provider}/{config.model}", counts=counts,
        tokens=sum(ex.token_length for ex in accepted),
        cost_usd=float(totals.get("cost_usd", 0.0)), requests=int(totals.get("requests_sent", 0)),
        files=files, skipped=[{"path": f.path, "error": f.reason} for f in log.plan.skipped],
        warnings=list(dict.fromkeys(log.plan.messages + warnings + list(result.notes))),
        stopped_reason=log.stopped_reason, failures=log.failure_counts(),
        summary={"cache_hits": int(totals.get("cache_hits", 0)),
                 "rejected_by_reason": _reason_counts(everything),
                 "distribution": result.distribution})
