"""What `train` shows a person: the confirmation screen, the result, the job table, the progress line;
and the menu entry that uses them (ask, confirm, start, optionally follow)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from src.cli import console, prompts
from src.config import Config, db_path
from src.persistence.sqlite_client import Database
from src.targets import catalog
from src.training.base import TERMINAL
from src.training.plan import TrainPlan, plan_training
from src.training.registry import TRAINERS
from src.training.run import (
    TrainOutcome,
    cancel_training,
    follow,
    refresh_jobs,
    start_training,
)

FOLLOW = "python -m src.main train --status {name}"
CANCEL = "python -m src.main train --cancel {name}"


def money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}" if value >= 1 else f"${value:,.4f}"


def describe_plan(plan: TrainPlan) -> list[str]:
    """The confirmation screen: target, files, examples, estimated cost, lifecycle notice."""
    spec = plan.spec
    epochs = plan.epochs or (f"{spec.epochs[2]} (default)" if spec.epochs else "provider default")
    lines = [f"Train {spec.label} ({spec.service}) on dataset {plan.dataset_name!r}",
             f"  base model sent: {spec.job_model} | epochs: {epochs}"
             + (f" | suffix: {plan.suffix}" if plan.suffix else "")]
    for file in plan.files:
        lines.append(f"  {file.role:<11} {file.examples:,} examples, {file.size:,} bytes "
                     f"({file.filename}; validated)")
    lines.append(f"  training tokens per epoch: {plan.tokens:,}")
    lines.append(f"  estimated training cost: {money(plan.cost_usd)} ({plan.cost_note})")
    lines += [f"  notice: {text}" for text in plan.notices]
    return lines


def describe_outcome(outcome: TrainOutcome) -> list[str]:
    """The job id, what was sent, and how to follow it."""
    job = outcome.job
    name = job["dataset_name"]
    if outcome.existing:
        head = (f"Already started for these files and settings: job {job['job_id']} on "
                f"{job['provider']} ({job['state']}); nothing uploaded again.")
    else:
        head = (f"Training job {job['job_id']} {'found' if outcome.recovered else 'created'} on "
                f"{job['provider']} for {name!r} ({job['job_model']}; {job['state']}).")
    lines = [head]
    for role, ref in job["files"].items():
        how = "uploaded" if role in outcome.uploaded else "reused earlier upload"
        lines.append(f"  {role:<11} {ref} ({how})" if not outcome.existing else f"  {role:<11} {ref}")
    lines.append(f"  estimated cost: {money(job['cost_estimate_usd'])} ({job['cost_note']})")
    if job.get("fine_tuned_model"):
        lines.append(f"  fine-tuned model: {job['fine_tuned_model']}")
    lines.append(f"  Follow it: {FOLLOW.format(name=quote(name))} (or add --wait); cancel it: "
                 f"{CANCEL.format(name=quote(name))}")
    return lines


def quote(name: str) -> str:
    return name if name.replace("-", "").replace("_", "").isalnum() else repr(name)


def status_table(rows: list[dict]) -> str:
    """One line per job: dataset, target, job id, state, created, result."""
    table = []
    for row in rows:
        state = row["state"] if row["status"] in ("", row["state"]) else \
            f"{row['state']} ({row['status']})"
        result = row.get("fine_tuned_model") or row.get("error") or ""
        if not row["job_id"]:
            result = "interrupted before the job was created: run train again to resume"
        if row.get("live_error"):
            result = f"status not refreshed: {row['live_error']}"
        table.append([row["dataset_name"], f"{row['provider']}/{row['model']}",
                      row["job_id"] or "-", state, row["created_at"], result])
    return console.table(table, ["dataset", "target", "job", "state", "created", "result"])


def progress_line(row: dict, started: float) -> str:
    elapsed = int(time.monotonic() - started)
    progress = f" {row['progress']}" if row.get("progress") else ""
    if row.get("live_error"):
        progress += f" (status not read this time: {row['live_error']})"
    return (f"[{datetime.now():%H:%M:%S} +{elapsed // 60}m{elapsed % 60:02d}s] {row['job_id']} "
            f"on {row['provider']}: {row['state']}{progress}")


def progress_printer() -> Callable[[dict], None]:
    """A callback for `follow`: rewrites one line on a terminal, prints changes otherwise."""
    started, last = time.monotonic(), [""]
    tty = sys.stderr.isatty()

    def show(row: dict) -> None:
        line = progress_line(row, started)
        changed = line.split("] ", 1)[1] != last[0]
        last[0] = line.split("] ", 1)[1]
        if tty:
            end = "\n" if row["state"] in TERMINAL else ""
            print(f"\r{line}\033[K", end=end, file=sys.stderr, flush=True)
        elif changed:
            console.info(line)
    return show


def final_lines(row: dict) -> list[str]:
    """How a followed job ended."""
    if row["state"] == "succeeded":
        return [f"Job {row['job_id']} succeeded: fine-tuned model {row['fine_tuned_model']}"]
    return [f"Job {row['job_id']} ended {row['state']}"
            + (f": {row['error']}" if row.get("error") else ".")]


def job_json(row: dict) -> dict[str, Any]:
    keep = ("dataset_name", "provider", "model", "job_model", "job_id", "status", "state",
            "fine_tuned_model", "error", "files", "settings", "examples", "tokens",
            "cost_estimate_usd", "cost_note", "created_at", "updated_at", "live_error",
            "progress")
    return {k: row[k] for k in keep if k in row}


# ---------------------------------------------------------------- the menu entry

def train_menu(config: Config, dataset: str) -> None:
    """A dataset's jobs with their live status; start one (after a confirmation), follow, cancel."""
    with Database(db_path()) as db:
        rows = refresh_jobs(db, config, (dataset,))
    if rows:
        console.out(status_table(rows))
    active = next((r for r in rows if r["job_id"] and r["state"] not in TERMINAL), None)
    actions = ["Start a fine-tuning job (shows what will be sent first)"]
    actions += ["Follow the running job until it ends", "Cancel the running job"] if active else []
    choice = prompts.ask_choice(f"Training of {dataset!r}", actions + ["Back"], 0)
    if choice == 0:
        _start(config, dataset)
    elif active is not None and choice == 1:
        _follow(config, active["id"])
    elif active is not None and choice == 2 and prompts.confirm(
            f"Cancel job {active['job_id']} on {active['provider']}?", default=False):
        with Database(db_path()) as db:
            row = cancel_training(db, config, dataset)
        console.success(f"Job {row['job_id']}: {row['state']}.")


def _start(config: Config, dataset: str) -> None:
    providers = [p for p in catalog.providers_open_first() if p in TRAINERS]
    provider = prompts.ask_option("Train on which provider?",
                                  [(p, prompts.provider_line(p)) for p in providers],
                                  config.provider if config.provider in TRAINERS else None)
    models = [m.model for m in catalog.models_open_first(provider)
              if catalog.status(m) in ("active", "closing")]  # the others take no new jobs
    model = models[prompts.ask_choice(f"Base model ({provider})",
                                      [prompts.model_line(provider, m) for m in models], 0)]
    with Database(db_path()) as db:
        plan = plan_training(db, dataset, provider, model, config=config)
        for line in describe_plan(plan):
            console.info(line)
        if not prompts.confirm("Upload these files and start the job?", default=False):
            plan.discard()
            console.info("Not started; nothing was uploaded.")
            return
        outcome = start_training(db, plan, config)
    for line in describe_outcome(outcome):
        console.out(line)
    if outcome.job["state"] not in TERMINAL and prompts.confirm("Follow it until it ends?", False):
        _follow(config, outcome.job["id"])


def _follow(config: Config, row_id: int) -> None:
    with Database(db_path()) as db:
        row = follow(db, config, row_id, progress_printer())
    for line in final_lines(row):
        console.out(line)
