"""`export` command: write a stored dataset again, for any target or trainer, without regenerating."""

from __future__ import annotations

import argparse
from pathlib import Path

from src.cli import console
from src.cli.commands.common import print_json
from src.cli.render import export_summary
from src.config import EXPORT_FORMATS, db_path
from src.persistence.sqlite_client import Database
from src.pipeline.finish import export_files, unfinished_note

HELP = "Re-export a stored dataset (JSONL, trainer folders, Parquet, CSV metadata, stats)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name or id (see `list`)")
    parser.add_argument("--format", choices=EXPORT_FORMATS, default=None,
                        help="record format or trainer folder (default: the dataset's "
                             "output.format; native = the target's own format). Another format "
                             "than the dataset's own goes to <name>/<format>/")
    parser.add_argument("--model", default=None,
                        help="for another provider's format: the model to validate against "
                             "(default: that provider's default model)")
    parser.add_argument("--include-context", action=argparse.BooleanOptionalAction, default=None,
                        help="alpaca/mistral_instruct: put the source passage (answers cut out) "
                             "in `input` (default: the dataset's output.include_context)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="parent folder for <name>/ (default: output_datasets/)")
    parser.add_argument("--json", action="store_true", help="print the written files as JSON")


def run(args: argparse.Namespace) -> int:
    with Database(db_path()) as db:
        note = unfinished_note(db, args.name)
        result = export_files(args.name, db, fmt=args.format, out_dir=args.out,
                              model=args.model, include_context=args.include_context)
    if note:
        console.warn(note)
    if args.json:
        print_json({"name": result.name, "format": result.fmt, "folder": str(result.folder),
                    "counts": result.counts, "files": {k: str(p) for k, p in result.files.items()},
                    "valid": result.valid, "checked_against": result.target,
                    "validation": result.validation, "problems": result.problems})
        return 0 if result.valid else 1
    lines = export_summary(result)
    (console.success if result.valid else console.error)(lines[0])
    for line in lines[1:]:
        console.out(line)
    return 0 if result.valid else 1
