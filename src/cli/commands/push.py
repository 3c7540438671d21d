"""`push` command: export a stored dataset as Parquet + dataset card and upload it to the Hub."""

from __future__ import annotations

import argparse

from src.cli import console
from src.cli.commands.common import print_json
from src.config import db_path
from src.export.hub import push_dataset
from src.persistence.sqlite_client import Database

HELP = "Upload a stored dataset to the Hugging Face Hub (Parquet splits + dataset card)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="dataset name or id (see `list`)")
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME",
                        help="the Hub dataset repository (created when it does not exist)")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--json", action="store_true", help="print what was pushed as JSON")


def run(args: argparse.Namespace) -> int:
    with Database(db_path()) as db:
        exported, pushed = push_dataset(args.name, args.repo, db, private=args.private)
    if args.json:
        print_json({"repo": pushed.repo, "url": pushed.url, "commit": pushed.commit,
                    "private": pushed.private, "folder": str(exported.folder),
                    "files": pushed.files, "counts": exported.counts})
        return 0
    console.success(f"Pushed {exported.name} to {pushed.url} ({'private' if pushed.private else 'public'}"
                    f"; commit {pushed.commit or '?'}).")
    for file in pushed.files:
        console.out(f"  {file}")
    return 0
