"""`analyze-errors NAME [--output FILE.json]`: why samples of a dataset were rejected, and what to do."""

from __future__ import annotations

import argparse
from pathlib import Path

from src.cli import console
from src.cli.render import error_summary
from src.export.error_report import analyze_dataset

HELP = "Group a dataset's rejected samples into error categories with recommendations."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name (see `python -m src.main list`)")
    parser.add_argument("--output", type=Path, metavar="FILE.json",
                        help="also write the report here (it is always written as "
                             "output_datasets/NAME/NAME_errors.json)")


def run(args: argparse.Namespace) -> int:
    report, paths = analyze_dataset(args.name, args.output)
    console.heading(f"Error analysis of {report['dataset']}")
    for line in error_summary(report):
        console.out(line)
    for path in paths:
        console.success(f"Wrote {path}")
    return 0
