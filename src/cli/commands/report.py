"""`report NAME`: write a stored dataset's HTML report (charts, claims, judge, diversity)."""

from __future__ import annotations

import argparse
from pathlib import Path

from src.cli import console
from src.cli.commands.common import print_json
from src.config import db_path
from src.export.report import write_report
from src.persistence.sqlite_client import Database

HELP = "Write a dataset's self-contained HTML report: output_datasets/NAME/NAME_report.html."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name or id (see `list`)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="parent folder for <name>/ (default: output_datasets/)")
    parser.add_argument("--json", action="store_true", help="print the report's path as JSON")


def run(args: argparse.Namespace) -> int:
    with Database(db_path()) as db:
        path = write_report(db, args.name, args.out)
    if args.json:
        print_json({"report": str(path)})
    else:
        console.success(f"Wrote {path}")
        console.out(f"Open it in a browser: {path.as_uri()}")
    return 0
