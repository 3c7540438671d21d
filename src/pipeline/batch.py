"""Batch mode: a run in rounds through the providers' Batch APIs (half price, within 24 h).

Each call of `advance()` (from `generate --batch`, run again with the same name, or `batches NAME`):
1. finds any batch whose create call was interrupted (recorded `submitting`): looked up at the
   provider by its tag, adopted if it exists, forgotten if it does not (its requests were never
   sent, so the next round asks for them again);
2. asks the provider about every batch in flight; an ended one has its results stored in the
   resume cache (`BatchLLMClient.absorb`: the live reply parsing, batch prices);
3. when nothing is in flight, *replays* the run (`replay`): the agents run as in a live run, every
   request answered from the cache or noted as pending; samples of a replay go to a scratch copy of
   the dataset, never to the real one, so only the final replay stores anything;
4. submits what is pending as the next round (sharded to the provider's caps, one model per batch,
   within the budget at batch prices), or, when nothing is pending, runs the ordinary `execute()`
   (every answer from the cache: the samples a live run would store) and closes the batch run.

Nothing here is submitted twice: a job and its requests are written before the provider is asked,
and a request in a batch that has not ended is never submitted again. A paid result is stored
before its job is marked collected.
"""

from __future__ import annotations

import asyncio
import calendar
import copy
import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from src.config import Config, db_path, parse_config
from src.engine.engines import engine_for
from src.errors import (
    BuilderError,
    DatasetNotFound,
    ProviderUnavailable,
    RateLimited,
    UsageError,
)
from src.export.paths import safe_output_name
from src.persistence import batch_jobs
from src.persistence.batch_jobs import NewRequest
from src.persistence.locks import dataset_lock
from src.persistence.sqlite_client import Database
from src.pipeline.plan import Plan, prepare
from src.pipeline.processor import Processor, RunLog
from src.pipeline.result import RunResult
from src.pipeline.run import _generate, execute
from src.providers.base_provider import Request
from src.providers.batch_api import WINDOW, missing_results
from src.providers.batch_client import BatchLLMClient, Waiting
from src.providers.budget import usd


@dataclass
class BatchReport:
    """Where a batch run stands after one `advance()`."""

    dataset: str
    state: str  # waiting | submitted | done | stopped | cancelled
    lines: list[str] = field(default_factory=list)
    result: RunResult | None = None
    submitted: int = 0  # requests submitted by this call

    @property
    def finished(self) -> bool:
        return self.state in ("done", "stopped", "cancelled")

    def to_dict(self) -> dict:
        """What `generate --batch --json` and `batches --json` print."""
        return {"dataset": self.dataset, "batch_state": self.state, "lines": self.lines,
                "submitted": self.submitted,
                **(self.result.to_dict() if self.result is not None else {})}


def run(config: Config, free_prompt: str | None = None, progress: bool = True,
        confirm: Callable[[Plan], bool] | None = None, passwords: dict[str, str] | None = None,
        wait: bool = False, on_wait: Callable[[BatchReport], None] | None = None
        ) -> BatchReport | None:
    """`generate --batch`: a new batch run is prepared and confirmed first; an open one of the
    same dataset is carried on (nothing to confirm: it was confirmed when it started)."""
    name = safe_output_name(config.output_name)
    plan = None
    if open_session(name) is None:
        plan = prepare(config, free_prompt, passwords, progress)
        if confirm is not None and not confirm(plan):
            return None
    return follow(config, plan, passwords, progress, wait, on_wait)


def follow(config: Config, plan: Plan | None = None, passwords: dict[str, str] | None = None,
           progress: bool = False, wait: bool = False,
           on_wait: Callable[[BatchReport], None] | None = None) -> BatchReport:
    """`advance()` once, or with `wait` until the run is finished (one poll every
    system.batch_poll_seconds; `on_wait` shows where it stands)."""
    while True:
        report = advance(config, plan, passwords, progress)
        if report.finished or not wait:
            return report
        if on_wait is not None:
            on_wait(report)
        time.sleep(config.system.batch_poll_seconds)


def open_session(name: str) -> dict | None:
    with Database(db_path()) as db:
        found = batch_jobs.session(db, name)
    return found if found is not None and found["status"] != "done" else None


def session_config(name: str) -> tuple[Config, str | None]:
    """The configuration (and free-mode instructions) an open batch run was started with."""
    found = open_session(name)
    if found is None:
        raise DatasetNotFound(f"No open batch run for {name!r}: `python -m src.main batches` "
                              "lists them; start one with generate --batch.")
    return parse_config(found["config"], f"the stored configuration of {name}"), \
        found["free_prompt"]


def advance(config: Config, plan: Plan | None = None, passwords: dict[str, str] | None = None,
            progress: bool = False) -> BatchReport:
    """One step of a batch run (see the module docstring)."""
    if config.system.engine == "ray":
        raise UsageError("--batch cannot run on the Ray engine (the provider does the work, so "
                         "there is nothing to spread): use --engine local with --batch.")
    name = safe_output_name(config.output_name)
    with dataset_lock(name, "generate"), Database(db_path()) as db:
        client = BatchLLMClient(config, db, dataset=name)
        session = batch_jobs.open_session(db, name, config.to_dict(),
                                          plan.free_prompt if plan else None, config.budget_usd)
        report = BatchReport(name, "waiting", check(db, client))
        if any(j["state"] in batch_jobs.IN_FLIGHT for j in batch_jobs.jobs(db, name, True)):
            return report
        if session["status"] == "cancelling":
            batch_jobs.close_session(db, name)
            report.state = "cancelled"
            report.lines.append("The batch run was cancelled; the answers collected are kept "
                                "in the resume cache (a later run reuses them).")
            return report
        plan = plan or prepare(config, session["free_prompt"], passwords, progress)
        while True:
            waiting = replay(plan, db).to_submit()
            if not waiting:
                break
            report.submitted = submit(db, client, waiting, report.lines)
            if report.submitted:
                report.state = "submitted"
                return report
    return finish(plan, report, progress)


def finish(plan: Plan, report: BatchReport, progress: bool) -> BatchReport:
    """Every answer is in: the ordinary run, all from the cache; then the batch run is closed."""
    result = execute(plan, progress)
    with Database(db_path()) as db:
        spend = batch_jobs.batch_spend(db, report.dataset, open_only=True)
        batch_jobs.close_session(db, report.dataset)
    result.summary["batch"] = spend
    result.cost_usd += spend["cost_usd"]
    report.result = result
    report.state = "stopped" if result.stopped_reason else "done"
    report.lines.append(f"Batch run finished: {spend['requests']:,} batch requests, "
                        f"{usd(spend['cost_usd'])} at batch prices; 0 live requests"
                        if not result.requests else
                        f"{result.requests} requests were sent live (not through the Batch API)")
    return report


# ---------------------------------------------------------------- checking the provider

def check(db: Database, client: BatchLLMClient) -> list[str]:
    """Resolve interrupted submissions, poll the batches in flight, store ended ones' results."""
    lines: list[str] = []
    name = client.dataset
    open_jobs = batch_jobs.jobs(db, name, open_only=True)
    for job in open_jobs:
        if job["state"] in batch_jobs.IN_FLIGHT and job["provider"] != client.provider:
            raise UsageError(f"The open batch run of {name} uses {job['provider']}, not "
                             f"{client.provider}: finish it first (batches {name} --wait) or "
                             f"cancel it (batches {name} --cancel).")
    known = {j["batch_id"] for j in batch_jobs.jobs(db) if j["batch_id"]}
    for job in open_jobs:
        if job["state"] == "submitting":
            lines.append(resolve(db, client, job, known))
    for job in batch_jobs.jobs(db, name, open_only=True):
        if job["state"] == "submitted":
            lines.append(collect(db, client, job))
    return lines


def resolve(db: Database, client: BatchLLMClient, job: dict, known: set[str]) -> str:
    """A job recorded before its create call whose answer was never stored."""
    created = calendar.timegm(time.strptime(job["created_at"], "%Y-%m-%d %H:%M:%S"))
    found = client.batch.find(job["tag"], created, job["requests"], known)
    if found is None:
        batch_jobs.job_abandoned(db, job["id"], "the provider has no such batch: its submission "
                                 "was interrupted before it was created")
        return (f"Round {job['round']}: an interrupted submission of {job['requests']} requests "
                "never reached the provider; they will be submitted again.")
    batch_jobs.job_submitted(db, job["id"], found, "found again")
    known.add(found)
    return (f"Round {job['round']}: found batch {found} ({job['requests']} requests), created "
            "before the submission was interrupted.")


def collect(db: Database, client: BatchLLMClient, job: dict) -> str:
    """Poll one batch; when it has ended, store every result (then mark the job collected)."""
    state = client.batch.state(job["batch_id"])
    batch_jobs.job_status(db, job["id"], state.status)
    head = f"Round {job['round']}: batch {job['batch_id']} ({job['requests']:,} requests)"
    if not state.done:
        return f"{head}: {state.describe()}"
    rows = batch_jobs.job_requests(db, job["id"])
    results = client.batch.results(job["batch_id"])
    results += missing_results([r["custom_id"] for r in rows], results, state.status)
    counts = client.absorb(rows, results)
    batch_jobs.job_collected(db, job["id"], state.status)
    said = ", ".join(f"{n:,} {what}" for what, n in sorted(counts.items()))
    return f"{head}: ended {state.status}; {said or 'no results'}."


def cancel(name: str, config: Config) -> list[str]:
    """Ask the provider to cancel the batch run's batches in flight; what they finished is still
    collected (it is paid for) by the next `batches NAME`, and nothing new is submitted."""
    with dataset_lock(name, "generate"), Database(db_path()) as db:
        client = BatchLLMClient(config, db, dataset=name)
        lines = []
        for job in batch_jobs.jobs(db, name, open_only=True):
            if job["state"] == "submitted":
                client.batch.cancel(job["batch_id"])
                lines.append(f"Asked {job['provider']} to cancel batch {job['batch_id']}.")
        batch_jobs.set_session_status(db, name, "cancelling")
    return lines


# ---------------------------------------------------------------- replay and submission

def replay(plan: Plan, db: Database) -> BatchLLMClient:
    """Run the agents against the cache; samples go to a scratch copy of the dataset. Returns the
    round's client, whose `pending` holds what the cache could not answer."""
    config = plan.config
    probe = copy.copy(plan)  # the final run must get the plan as prepare() left it
    probe.extracted = copy.deepcopy(plan.extracted)
    with scratch_copy(db, safe_output_name(config.output_name)) as scratch, \
            engine_for(config, False) as engine:
        log = RunLog.start(scratch, config, probe, run_id="replay")
        processor = Processor(config, scratch, log, plan.size, False, scorer=engine.score)
        try:
            asyncio.run(_generate(probe, db, processor, log, engine))
        finally:
            processor.close()
    assert isinstance(log.client, BatchLLMClient)
    return log.client


@contextmanager
def scratch_copy(db: Database, name: str) -> Iterator[Database]:
    """An in-memory database holding this dataset's stored samples (a replay writes there)."""
    scratch = Database(":memory:")
    try:
        try:
            found = db.get_dataset(name)
        except DatasetNotFound:
            found = None
        if found is not None:
            copy_id = scratch.upsert_dataset(name, found["provider"], found["model"],
                                             found["mode"], {})
            scratch.save_examples(copy_id, db.load_examples(found["id"], status=None))
        yield scratch
    finally:
        scratch.close()


def submit(db: Database, client: BatchLLMClient, waiting: list[Waiting],
           lines: list[str]) -> int:
    """Submit the pending requests that fit the budget as one or more batches; returns how many."""
    name, adapter = client.dataset, client.batch
    fits = client.affordable(waiting)
    if len(fits) < len(waiting):
        lines.append(f"{len(waiting) - len(fits):,} request(s) not submitted: they would cross "
                     f"budget_usd {usd(client.config.budget_usd)} (raise it and run again).")
    round_no = 1 + max((j["round"] for j in batch_jobs.jobs(db, name, True)), default=0)
    sizes = adapter.shard_sizes([adapter.line("dsb-000000000000-000000", w.request)
                                 for w, _, _ in fits])
    start = 0
    for size in sizes:
        send_shard(db, client, fits[start:start + size], round_no, lines)
        start += size
    return start


def send_shard(db: Database, client: BatchLLMClient, fits: list[tuple[Waiting, int, float]],
               round_no: int, lines: list[str]) -> None:
    """One provider batch: recorded (with its requests) before the create call, completed after."""
    tag = batch_jobs.new_tag()
    requests = [NewRequest(f"{tag}-{i:06d}", w.key, w.attempt, dataclasses.asdict(w.request),
                           tokens, worst) for i, (w, tokens, worst) in enumerate(fits)]
    job_id = batch_jobs.record_job(db, client.dataset, client.provider, client.model, tag,
                                   round_no, requests)
    batch_lines = [client.batch.line(r.custom_id, Request(**r.request)) for r in requests]
    try:
        batch_id, status = client.batch.submit(batch_lines, tag, client.model, {
            j["batch_id"] for j in batch_jobs.jobs(db) if j["batch_id"]})
    except (ProviderUnavailable, RateLimited):
        raise  # it may exist: the next check looks it up by its tag before anything is resent
    except BuilderError as exc:  # refused (key, billing, a bad request): never created
        batch_jobs.job_abandoned(db, job_id, str(exc)[:300])
        raise
    batch_jobs.job_submitted(db, job_id, batch_id, status)
    worst = sum(r.worst_usd for r in requests)
    lines.append(f"Round {round_no}: submitted {len(requests):,} requests to the "
                 f"{client.provider} Batch API as {batch_id} (at most {usd(worst)} at batch "
                 f"prices; results {WINDOW}).")


def overview() -> list[dict]:
    """Every batch run: its state, rounds, batches in flight, requests and cost so far."""
    with Database(db_path()) as db:
        rows = []
        for found in batch_jobs.sessions(db):
            name = found["dataset"]
            jobs = [j for j in batch_jobs.jobs(db, name)
                    if j["open"] or found["status"] == "done"]
            spend = batch_jobs.batch_spend(db, name, open_only=found["status"] != "done")
            rows.append({"dataset": name, "status": found["status"],
                         "rounds": max((j["round"] for j in jobs), default=0),
                         "in_flight": sum(j["state"] in batch_jobs.IN_FLIGHT for j in jobs),
                         "batches": [{k: j[k] for k in ("batch_id", "provider", "round", "state",
                                                        "provider_status", "requests",
                                                        "cost_usd")} for j in jobs],
                         **spend, "updated_at": found["updated_at"]})
    return rows
