"""Upload, create, follow and cancel, with every step recorded so a rerun resumes instead of repeating.

- A second `train` with the same dataset, target, settings and bytes reports the job it made.
- An upload is recorded the moment it finishes; the job row is written before the create call.
  A run killed after an upload reuses the file; a run killed during the create call looks the job
  up on the provider (by our name, label or metadata) before creating one.
- A definite refusal (4xx) removes the job row: nothing was created. No answer at all leaves it,
  since the provider may have created the job; the next run looks for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from src.config import Config
from src.errors import BuilderError, ProviderUnavailable, UsageError
from src.persistence import train_jobs as store
from src.persistence.locks import train_lock
from src.persistence.sqlite_client import Database
from src.training.base import TERMINAL, JobInfo, JobRequest, LocalFile, Trainer, short
from src.training.plan import TrainPlan
from src.training.registry import trainer_for

log = logging.getLogger("src.training")
FOLLOW_MISSES = 5  # unanswered status reads in a row before --wait gives up
FILE_WORDS = ("file", "dataset", "uri", "s3://", "gs://")  # a refusal about the uploaded data


@dataclass
class TrainOutcome:
    """What `train` did: the job row, and whether anything was sent this time."""

    job: dict
    existing: bool = False  # an earlier job for the same request was reported; nothing sent
    recovered: bool = False  # found on the provider after an interrupted run
    uploaded: list[str] = field(default_factory=list)  # roles uploaded now
    reused: list[str] = field(default_factory=list)  # roles whose earlier upload was reused


def start_training(db: Database, plan: TrainPlan, config: Config) -> TrainOutcome:
    """Upload what is not uploaded yet and create the job, unless this request already has one."""
    try:
        with train_lock(plan.name):
            rows = store.jobs_for_key(db, plan.run_key)
            live = next((r for r in rows if r["job_id"] and r["state"] not in
                         ("failed", "cancelled")), None)
            if live is not None:
                return TrainOutcome(live, existing=True)
            trainer = trainer_for(plan.provider, config)
            trainer.check_ready()
            outcome = TrainOutcome(job={})
            refs = {f.role: _upload(db, trainer, f, outcome) for f in plan.files}
            outcome.job = _create(db, trainer, plan, refs, rows, outcome)
            return outcome
    finally:
        plan.discard()


def _upload(db: Database, trainer: Trainer, file: LocalFile, outcome: TrainOutcome) -> str:
    where = trainer.destination()
    known = store.find_upload(db, trainer.provider, where, file.sha256)
    if known is not None:
        outcome.reused.append(file.role)
        return str(known["file_ref"])
    ref = trainer.upload(file)
    store.record_upload(db, trainer.provider, where, file.sha256, ref, file.size, file.filename)
    log.info("train: uploaded %s (%d bytes) to %s as %s", file.filename, file.size, where, ref)
    outcome.uploaded.append(file.role)
    return ref


def _create(db: Database, trainer: Trainer, plan: TrainPlan, refs: dict[str, str],
            rows: list[dict], outcome: TrainOutcome) -> dict:
    pending = next((r for r in rows if not r["job_id"]), None)  # a run stopped mid-create
    row_id = pending["id"] if pending else store.begin_job(db, store.NewJob(
        plan.run_key, plan.dataset_id, plan.dataset_name, plan.provider, plan.spec.model,
        plan.spec.job_model, plan.settings, trainer.destination(), refs, plan.examples(),
        plan.tokens, plan.cost_usd, plan.cost_note))
    store.set_files(db, row_id, refs)
    request = JobRequest(plan.spec.job_model, refs, plan.epochs, plan.suffix,
                         job_name=f"ftdb-{plan.run_key[:16]}-{row_id}",
                         display_name=plan.dataset_name, run_key=plan.run_key)
    info = trainer.find_job(request, {r["job_id"] for r in rows if r["job_id"]}) \
        if pending else None
    outcome.recovered = info is not None
    if info is None:
        try:
            info = trainer.create_job(request)
        except ProviderUnavailable:
            raise  # no answer: the job may exist; the next run looks for it
        except BuilderError as exc:
            store.delete_job(db, row_id)
            raise _refused(db, trainer, plan, outcome, exc) from None
    _record(db, row_id, info)
    log.info("train: job %s %s on %s for %s (%s)", info.job_id,
             "found" if outcome.recovered else "created", plan.provider, plan.dataset_name,
             plan.spec.job_model)
    return store.get_job(db, row_id)


def _refused(db: Database, trainer: Trainer, plan: TrainPlan, outcome: TrainOutcome,
             exc: BuilderError) -> BuilderError:
    """The provider refused the job; if it blamed reused files, upload them again next time."""
    if not outcome.reused or not any(w in str(exc).lower() for w in FILE_WORDS):
        return exc
    for file in plan.files:
        if file.role in outcome.reused:
            store.forget_upload(db, trainer.provider, trainer.destination(), file.sha256)
    return type(exc)(f"{exc} The files uploaded by an earlier run were reused; they are "
                     "forgotten now, so the next `train` uploads them again.")


def _record(db: Database, row_id: int, info: JobInfo) -> None:
    fields: dict = {"job_id": info.job_id, "status": info.status, "state": info.state,
                    "fine_tuned_model": info.fine_tuned_model, "error": info.error}
    if info.cost_usd is not None:
        fields.update(cost_estimate_usd=info.cost_usd, cost_note="quoted by the provider")
    store.update_job(db, row_id, **fields)


# ---------------------------------------------------------------- status, wait, cancel

def refresh_jobs(db: Database, config: Config, names: tuple[str, ...] = ()) -> list[dict]:
    """Recorded jobs with their live status (each job that has not ended is asked once).

    A job whose provider cannot be asked keeps its stored status and gets `live_error`.
    """
    trainers: dict[str, Trainer] = {}
    rows = store.list_jobs(db, names)
    for row in rows:
        if not row["job_id"] or row["state"] in TERMINAL:
            continue
        try:
            trainer = trainers.setdefault(row["provider"], trainer_for(row["provider"], config))
            _record(db, row["id"], trainer.get_job(row["job_id"]))
            row.update(store.get_job(db, row["id"]))
        except BuilderError as exc:
            row["live_error"] = short(str(exc))
    return rows


def follow(db: Database, config: Config, row_id: int, on_update: Callable[[dict], None],
           sleep: Callable[[float], None] = time.sleep) -> dict:
    """Poll one job every train.poll_seconds until it ends; `on_update` sees each reading.

    A reading the provider does not answer is tried again at the next poll (a few in a row at
    most); the job goes on at the provider either way.
    """
    row, misses = store.get_job(db, row_id), 0
    trainer = trainer_for(row["provider"], config)
    while True:
        if row["job_id"] and row["state"] not in TERMINAL:
            try:
                info = trainer.get_job(row["job_id"])
            except ProviderUnavailable as exc:
                misses += 1
                if misses > FOLLOW_MISSES:
                    raise
                row["live_error"] = short(str(exc))
            else:
                misses = 0
                _record(db, row_id, info)
                row = {**store.get_job(db, row_id), "progress": info.progress}
        on_update(row)
        if row["state"] in TERMINAL or not row["job_id"]:
            return row
        sleep(config.train.poll_seconds)


def cancel_training(db: Database, config: Config, name: str) -> dict:
    """Cancel the newest job of dataset `name` that has not ended."""
    rows = [r for r in refresh_jobs(db, config, (name,)) if r["job_id"]]
    active = next((r for r in rows if r["state"] not in TERMINAL and r["state"] != "cancelling"),
                  None)
    if active is None:
        last = f" (the last one is {rows[0]['state']})" if rows else ""
        raise UsageError(f"No running training job for {name!r}{last}: see "
                         "`python -m src.main train --status`.")
    info = trainer_for(active["provider"], config).cancel_job(active["job_id"])
    _record(db, active["id"], info)
    return store.get_job(db, active["id"])
