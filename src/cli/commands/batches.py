"""`batches [NAME]`: the batch runs, or carry one on (collect what has ended, submit the next round)."""

from __future__ import annotations

import argparse

from src.cli import console
from src.cli.commands.common import print_json
from src.cli.reports import describe_batch, wait_lines
from src.pipeline import batch
from src.providers.budget import usd

HELP = ("List batch runs (generate --batch), or with NAME check the provider, collect finished "
        "batches and submit the next round.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="dataset whose batch run to carry on")
    parser.add_argument("--wait", action="store_true", help="poll until the run is finished")
    parser.add_argument("--cancel", action="store_true",
                        help="ask the provider to cancel the batches in flight (what they "
                             "finished is still collected; nothing new is submitted)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def run(args: argparse.Namespace) -> int:
    if not args.name:
        return _list(args.json)
    config, _free_prompt = batch.session_config(args.name)
    if args.cancel:
        for line in batch.cancel(args.name, config):
            console.info(line)
    report = batch.follow(config, wait=args.wait, on_wait=progress)
    return show(report, args.json)


def progress(report: batch.BatchReport) -> None:
    """--wait: what one poll found, with the time, before the next poll."""
    for line in wait_lines(report):
        console.info(line)


def show(report: batch.BatchReport, as_json: bool) -> int:
    """Print where a batch run stands (generate --batch shows the same); the exit code: 1 when
    it finished with no sample."""
    for line in describe_batch(report):
        console.info(line)
    if as_json:
        print_json(report.to_dict())
    if report.result is not None:
        return 0 if report.result.counts["samples"] else 1
    return 0


def _list(as_json: bool) -> int:
    rows = batch.overview()
    if as_json:
        print_json(rows)
        return 0
    if not rows:
        console.info("No batch runs yet: `python -m src.main generate --batch` starts one.")
        return 0
    console.out(console.table(
        [[r["dataset"], r["status"], r["rounds"], r["in_flight"], r["requests"],
          usd(r["cost_usd"]), r["updated_at"]] for r in rows],
        ["dataset", "status", "rounds", "in flight", "results", "batch cost", "updated"]))
    return 0
