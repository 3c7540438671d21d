"""`export` command: write a stored dataset again, for any target format, without regenerating."""

from __future__ import annotations

import argparse
from pathlib import Path

from src.cli import console
from src.cli.commands.common import print_json
from src.config import EXPORT_FORMATS, db_path
from src.export.exporter import export_dataset
from src.persistence.sqlite_client import Database

HELP = "Re-export a stored dataset (JSONL, CSV metadata, stats)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name or id (see `list`)")
    parser.add_argument("--format", choices=EXPORT_FORMATS, default=None,
                        help="record format (default: the dataset's output.format; native = the "
                             "target's own format)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="parent folder for <name>/ (default: output_datasets/)")
    parser.add_argument("--json", action="store_true", help="print the written files as JSON")


def run(args: argparse.Namespace) -> int:
    with Database(db_path()) as db:
        result = export_dataset(args.name, db, fmt=args.format, out_dir=args.out)
    if args.json:
        print_json({"name": result.name, "format": result.fmt, "folder": str(result.folder),
                    "counts": result.counts, "files": {k: str(p) for k, p in result.files.items()}})
        return 0
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    console.success(f"Exported {result.name} as {result.fmt} ({counts}) to {result.folder}")
    for role, path in result.files.items():
        console.out(f"{role:<10} {path}")
    return 0
