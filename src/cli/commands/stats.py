"""`stats` command: a stored dataset's tokens, sources, keywords, quality, cost and coverage."""

from __future__ import annotations

import argparse

from src.cli import console
from src.cli.commands.common import print_json
from src.cli.render import render_stats
from src.config import db_path
from src.export.stats import dataset_stats
from src.persistence.sqlite_client import Database

HELP = "Show statistics of a stored dataset."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name or id (see `list`)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def run(args: argparse.Namespace) -> int:
    with Database(db_path()) as db:
        stats = dataset_stats(db, args.name)
    if args.json:
        print_json(stats)
    else:
        console.out(render_stats(stats))
    return 0
