"""The stages right after the agents, batch by batch: measure, score, dedup, cap, save.

`Processor.add()` takes each batch of new examples as the agents produce them and saves it at once
(accepted and rejected alike, with reasons), so nothing produced is lost if the run stops.
`RunLog` keeps the run's row and failures. The whole-dataset stages are in `finish.py`.
"""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm import tqdm

from src.agents.base_agent import ItemFailure, round_robin, stable_id
from src.config import Config, QualityConfig
from src.errors import StorageError
from src.export.paths import safe_output_name
from src.models import SURPLUS, Example
from src.persistence.sqlite_client import Database
from src.pipeline.plan import Plan
from src.providers.llm_client import LLMClient, network_counts
from src.providers.speed import Speed
from src.quality.decontaminate import mark_contaminated
from src.quality.dedup import Deduplicator
from src.quality.facts import source_of
from src.quality.monitor import QualityMonitor
from src.quality.questions import check_questions
from src.quality.scores import score_examples
from src.targets.formatter import format_example, native_format
from src.targets.target import TARGETS
from src.targets.tokens import count_example_tokens

log = logging.getLogger(__name__)

@dataclass
class RunLog:
    """Bookkeeping of one run: its dataset, failures, why it stopped, what the client spent."""

    db: Database
    config: Config
    plan: Plan
    run_id: str
    dataset_id: str
    failures: list[ItemFailure] = field(default_factory=list)
    stopped_reason: str = ""
    messages: list[str] = field(default_factory=list)  # what the run found out (hybrid's mix...)
    client_totals: dict = field(default_factory=dict)
    client: LLMClient | None = None  # the LLM client while the run uses one (for live cost)
    work_left: int = -1  # create work items never started (-1: not a create run)
    pace: Speed | None = None  # the agent server's pace seen in this run (speed.py)
    output_share: float = 0.0  # share of max_tokens the writing agent's replies used

    @classmethod
    def start(cls, db: Database, config: Config, plan: Plan, run_id: str) -> RunLog:
        """Record a new run (call it holding the dataset's lock: earlier runs still marked
        running were killed, and are marked interrupted now)."""
        name = safe_output_name(config.output_name)
        dataset_id = db.upsert_dataset(name, config.provider, config.model, config.mode,
                                       config.to_dict())
        stale = db.mark_stale_runs(dataset_id)
        if stale:
            log.warning("%d earlier run(s) of %s never finished (killed): marked interrupted",
                        stale, name)
        db.start_run(run_id, dataset_id)
        return cls(db, config, plan, run_id, dataset_id)

    def add_failures(self, failures: list[ItemFailure]) -> None:
        for failure in failures:
            self.failures.append(failure)
            self.db.record_failure(self.run_id, failure.item, failure.category, failure.message)

    def spent(self) -> tuple[int, int, int, float]:
        """Requests, input and output tokens and cost the LLM client recorded for this run."""
        totals = self.client_totals
        return (int(totals.get("requests_sent", 0)), int(totals.get("input_tokens", 0)),
                int(totals.get("output_tokens", 0)), float(totals.get("cost_usd", 0.0)))

    def record_spent(self) -> None:
        """Store what the run spent before its export (the stats and report it writes count it)."""
        self.db.record_run_totals(self.run_id, *self.spent())

    def finish(self, status: str, quiet: bool = False) -> None:
        """Record how the run ended; `quiet` (another error is on its way up): a failure to
        write is only logged, and the next run of the dataset marks this one interrupted."""
        network = network_counts(self.client_totals)
        if self.client_totals:
            log.info("run %s %s: %d requests sent, %d retried (%s)", self.run_id, status,
                     self.spent()[0], network["retries"],
                     ", ".join(f"{k} {v}" for k, v in network.items() if k != "retries"))
        try:
            self.db.finish_run(self.run_id, status, *self.spent(),
                               {"stopped_reason": self.stopped_reason,
                                "failures": self.failure_counts(),
                                "price": self.client_totals.get("price", ""),
                                "network": network})
        except StorageError:
            if not quiet:
                raise
            log.warning("could not record the end of run %s (%s)", self.run_id, status)

    def failure_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for failure in self.failures:
            counts[failure.category] += 1
        return dict(counts)


SAVE_BATCH = 2000  # samples written per transaction
SURPLUS_NOTE = "surplus:"  # how the note of a sample beyond the size cap starts

# Threshold failures that verbatim samples are kept despite (see quality.filter_extracted).
SOFT_REASONS = {"low_extractive", "missing_details", "poor_domain_focus", "irrelevant",
                "hallucinated_figures", "no_answer_in_context"}


class Processor:
    """Turns agent output into stored samples, batch by batch, and finishes the dataset."""

    def __init__(self, config: Config, db: Database, log: RunLog, size: int, progress: bool,
                 scorer: Callable[[list[Example], QualityConfig], object] = score_examples):
        self.config, self.db, self.log, self.size = config, db, log, size
        self.scorer = scorer  # the engine's: a process pool or Ray for a large batch
        self.fmt = native_format(config.provider)
        self.token_limit = TARGETS[config.provider].get_token_limit(config.model)
        self.name = db.get_dataset(log.dataset_id)["name"]
        stored = db.load_examples(log.dataset_id, status=None)
        self.stored_ids = {ex.id for ex in stored}
        self.accepted = [ex for ex in stored if not ex.reasons]
        self.reused = self._reuse_surplus([ex for ex in stored if ex.surplus])
        self.monitor = QualityMonitor(size, config.budget_usd)
        self._dedup: Deduplicator | None = None
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
        self.keep(self.score(examples), limit)

    def score(self, examples: list[Example]) -> list[Example]:
        """Measure and score new examples (those not stored yet), as soon as they are written:
        each sample on its own, so work items may be scored in any order. Returns the new ones."""
        for ex in examples:  # ids are per dataset: two datasets of one input must not share rows
            ex.id = dataset_sample_id(self.name, ex.id)
        new = [ex for ex in examples if ex.id not in self.stored_ids]
        for ex in new:
            ex.system = ex.system or self.config.output.system_prompt or None
            self._measure(ex)
        to_score = [ex for ex in new if not ex.reasons]
        self.scorer(to_score, self.config.quality)  # with quality.enabled off: no rejection
        for ex in to_score:
            check_questions(ex, reject=self.config.quality.enabled)
            self._keep_verbatim(ex)
        mark_contaminated(new, self.log.plan.contamination)
        return new

    def keep(self, new: list[Example], limit: int) -> None:
        """Dedup scored examples against what the dataset holds, cap them at `limit`, save them
        and count them (call in work-item order: which samples are kept must not depend on
        network timing)."""
        candidates = [ex for ex in new if not ex.reasons]
        if self._dedup is None:  # made at the first batch: the accepted of earlier runs indexed once
            self._dedup = Deduplicator(self.config.quality.near_duplicate_threshold, self.accepted)
        kept, _dropped = self._dedup.add(candidates)
        for ex in _over_cap(kept, limit - len(self.accepted)):
            ex.reasons.append(SURPLUS)
            ex.notes.append(f"{SURPLUS_NOTE} the dataset already had its {limit} samples; kept "
                            "for a later run with a larger size (not paid for again)")
        self._save(new)

    def _reuse_surplus(self, surplus: list[Example]) -> int:
        """Surplus of earlier runs fills this run's room first (the best, spread over sources):
        a larger size reuses samples already paid for. Returns how many were taken."""
        left = set(map(id, _over_cap(surplus, self.size - len(self.accepted))))
        taken = [ex for ex in surplus if id(ex) not in left]
        for ex in taken:
            ex.reasons = []
            ex.notes = [n for n in ex.notes if not n.startswith(SURPLUS_NOTE)]
        if taken:
            self.db.save_examples(self.log.dataset_id, taken)
            self.accepted += taken
        return len(taken)

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
        if not ex.turns or not all(t.content for t in ex.turns):
            return
        ex.token_length = count_example_tokens(format_example(ex, self.fmt), self.config.provider,
                                               self.config.model)
        if self.token_limit and ex.token_length > self.token_limit:
            ex.reasons.append("over_token_limit")
            ex.notes.append(f"{ex.token_length} tokens, over the {self.token_limit}-token limit "
                            f"of {self.config.model}")

    def _save(self, new: list[Example]) -> None:
        for start in range(0, len(new), SAVE_BATCH):  # the rows of a huge batch never all at once
            self.db.save_examples(self.log.dataset_id, new[start:start + SAVE_BATCH])
        accepted = [ex for ex in new if not ex.reasons]
        self.accepted += accepted
        self.stored_ids.update(ex.id for ex in new)
        for ex in new:
            self.monitor.update(example=ex, cost_usd=self._cost())
        self.bar.update(min(len(accepted), max(0, self.size - self.bar.n)))
        self.bar.set_postfix_str(self.monitor.line(), refresh=True)

    def close(self) -> None:
        self.bar.close()

    def release(self) -> None:
        """Let go of what only generating needs (the accepted samples, the dedup index, the
        facts of every source text) once it is over: the dataset is finished from the store,
        and the finishing stages reuse that memory."""
        self.accepted, self.stored_ids, self._dedup = [], set(), None
        source_of.cache_clear()


def dataset_sample_id(dataset_name: str, agent_id: str) -> str:
    """The stored id of an agent's sample in one dataset (deterministic, so resume finds it)."""
    return stable_id(dataset_name, agent_id)


def _over_cap(kept: list[Example], room: int) -> list[Example]:
    """The examples that do not fit in `room`: keep the best, spread across source files."""
    if room >= len(kept):
        return []
    by_source: dict[str, list[Example]] = defaultdict(list)
    for ex in sorted(kept, key=lambda e: -e.scores.get("overall", 0.0)):
        by_source[ex.source_file].append(ex)
    chosen_ids = {ex.id for ex in round_robin(list(by_source.values()))[:max(room, 0)]}
    return [ex for ex in kept if ex.id not in chosen_ids]


