"""`train` command: upload a stored dataset and start, follow or cancel its fine-tuning job."""

from __future__ import annotations

import argparse

from src.cli import console
from src.cli.commands.common import print_json
from src.cli.training import (
    describe_outcome,
    describe_plan,
    final_lines,
    job_json,
    progress_printer,
    quote,
    status_table,
)
from src.config import Config, db_path, load_config
from src.errors import DatasetNotFound, UsageError
from src.export.exporter import find_dataset
from src.persistence.sqlite_client import Database
from src.training.plan import plan_training
from src.training.registry import TRAINERS
from src.training.run import cancel_training, follow, refresh_jobs, start_training

HELP = ("Upload a stored dataset to a provider and start a fine-tuning job (or --status, "
        "--cancel).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="dataset name or id (see `list`)")
    parser.add_argument("--provider", choices=tuple(TRAINERS),
                        help="where to train (default: the dataset's target provider)")
    parser.add_argument("--model", help="base model (default: the dataset's target model, or the "
                                        "provider's default; see `models`)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: the provider's)")
    parser.add_argument("--suffix", help="a name part for the fine-tuned model (letters, digits, "
                                         "'-', '_')")
    parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
    parser.add_argument("--status", action="store_true",
                        help="list the training jobs (of NAME, or all) with their live status")
    parser.add_argument("--cancel", action="store_true", help="cancel NAME's running job")
    parser.add_argument("--config", help="config file (default: config.yaml)")
    parser.add_argument("--json", action="store_true", help="print the job(s) as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.status and args.cancel:
        raise UsageError("Use either --status or --cancel, not both.")
    with Database(db_path()) as db:
        if args.status:
            return _status(db, config, args)
        if not args.name:
            raise UsageError("Name the dataset: python -m src.main train NAME (see `list`), or "
                             "use --status.")
        if args.cancel:
            return _cancel(db, config, args)
        return _start(db, config, args)


def _stored_name(db: Database, name: str) -> str:
    try:
        return str(find_dataset(db, name)["name"])
    except DatasetNotFound:
        return name  # a deleted dataset's jobs are still listed under the name they had


def _start(db: Database, config: Config, args: argparse.Namespace) -> int:
    plan = plan_training(db, args.name, args.provider, args.model, args.epochs, args.suffix,
                         config=config)
    if not args.json:
        for line in describe_plan(plan):
            console.info(line)
    outcome = start_training(db, plan, config)
    if not args.json:
        for line in describe_outcome(outcome):
            console.out(line)
    row = outcome.job
    if args.wait:  # also when it has already ended: one line says how
        try:
            row = follow(db, config, row["id"], progress_printer())
        except KeyboardInterrupt:
            console.warn(f"Stopped following; job {row['job_id']} goes on at {row['provider']}. "
                         f"Follow it with: python -m src.main train --status "
                         f"{quote(row['dataset_name'])}")
            return 130
        if not args.json:
            for line in final_lines(row):
                console.out(line)
    if args.json:
        print_json({**job_json(row), "existing": outcome.existing,
                    "recovered": outcome.recovered, "uploaded": outcome.uploaded,
                    "reused": outcome.reused, "notices": plan.notices})
    return 1 if args.wait and row["state"] in ("failed", "cancelled") else 0


def _status(db: Database, config: Config, args: argparse.Namespace) -> int:
    names = (_stored_name(db, args.name),) if args.name else ()
    rows = refresh_jobs(db, config, names)
    if args.json:
        print_json({"jobs": [job_json(r) for r in rows]})
    elif not rows:
        console.info(f"No training jobs{' for ' + repr(args.name) if args.name else ''} yet: "
                     "start one with `python -m src.main train NAME`.")
    else:
        console.out(status_table(rows))
    return 0


def _cancel(db: Database, config: Config, args: argparse.Namespace) -> int:
    row = cancel_training(db, config, _stored_name(db, args.name))
    if args.json:
        print_json(job_json(row))
    else:
        console.success(f"Cancel requested for job {row['job_id']} on {row['provider']}: "
                        f"now {row['state']} ({row['status']}).")
    return 0
