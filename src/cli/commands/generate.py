"""`generate` command: run the whole pipeline from config.yaml and flags, no questions asked."""

from __future__ import annotations

import argparse
import sys

from src.cli import console
from src.cli.commands.batches import progress
from src.cli.commands.batches import show as show_batch
from src.cli.commands.common import (
    add_decontaminate_argument,
    add_password_argument,
    add_workers_argument,
    config_from_args,
    passwords_from_args,
    print_json,
)
from src.cli.prompts import Cancelled, confirm
from src.cli.reports import describe_plan, describe_result
from src.config import ENGINES, MODES
from src.errors import BuilderError, UsageError
from src.pipeline import batch
from src.pipeline.plan import Plan
from src.pipeline.run import run as run_pipeline

HELP = "Generate a dataset from config.yaml (flags override it) with no questions asked."

FLAG_MAP = {
    "mode": "mode",
    "provider": "provider",
    "model": "model",
    "agent_provider": "system.agentic_llm",
    "agent_model": "system.agentic_model",
    "input": "input.directory",
    "size": "dataset_size",
    "output_name": "output_name",
    "budget": "budget_usd",
    "decontaminate": "quality.decontaminate",
    "workers": "system.workers",
    "engine": "system.engine",
    "batch": "system.batch",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="F", help="config file (default: config.yaml)")
    parser.add_argument("--mode", choices=MODES)
    parser.add_argument("--provider", metavar="P", help="target provider the dataset is for")
    parser.add_argument("--model", metavar="M", help="target model the dataset is for")
    parser.add_argument("--agent-provider", metavar="P", help="LLM provider that writes samples")
    parser.add_argument("--agent-model", metavar="M", help="LLM model that writes samples")
    parser.add_argument("--input", metavar="DIR", help="folder (or file) of input documents")
    parser.add_argument("--size", type=int, metavar="N", help="desired number of samples")
    parser.add_argument("--output-name", metavar="NAME", help="dataset name (output folder)")
    parser.add_argument("--budget", type=float, metavar="USD", help="hard cost cap in USD")
    add_password_argument(parser)
    add_decontaminate_argument(parser)
    add_workers_argument(parser)
    parser.add_argument("--engine", choices=ENGINES,
                        help="local: every core of this machine; ray: a Ray cluster (RAY_ADDRESS, "
                             "or a local Ray; needs requirements-ray.txt)")
    parser.add_argument("--batch", action="store_true", default=None,
                        help="send the agent's requests through the provider's Batch API: half "
                             "price, results within 24 h; returns once submitted (run it again, "
                             "or `batches NAME`, to collect and go on)")
    parser.add_argument("--wait", action="store_true",
                        help="with --batch: stay and poll until the dataset is finished")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON summary on stdout; human output goes to stderr")


def _confirm(plan: Plan, assume_yes: bool) -> bool:
    for line in describe_plan(plan):
        console.info(line)
    if assume_yes or not plan.needs_llm:
        return True
    if not sys.stdin.isatty():
        raise UsageError("This run sends paid requests and nobody can confirm it here: "
                         "pass --yes to run without confirmation.")
    try:
        return confirm("Start?", default=True)
    except Cancelled:
        return False


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args, FLAG_MAP)  # a bad config or flag fails here, first
        if config.system.batch:
            return _run_batch(args, config)
        result = run_pipeline(config, progress=sys.stderr.isatty(),  # a bar only on a terminal
                              passwords=passwords_from_args(args),
                              confirm=lambda plan: _confirm(plan, args.yes))
    except BuilderError as exc:  # --json promises one JSON object, a failure's included
        if args.json:
            print_json({"error": str(exc), "exit_code": exc.exit_code})
        raise
    if result is None:
        console.warn("Not started.")
        return 1
    for line in describe_result(result):
        console.info(line)
    if args.json:
        print_json(result.to_dict())
    return 0 if result.counts["samples"] else 1


def _run_batch(args: argparse.Namespace, config) -> int:
    """--batch: submit (or collect and go on), and with --wait follow the run to its end."""
    report = batch.run(config, progress=sys.stderr.isatty(), passwords=passwords_from_args(args),
                       confirm=lambda plan: _confirm(plan, args.yes), wait=args.wait,
                       on_wait=progress)
    if report is None:
        console.warn("Not started.")
        return 1
    return show_batch(report, args.json)
