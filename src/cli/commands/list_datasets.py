"""`list` command: the datasets stored in the database."""

from __future__ import annotations

import argparse

from src.cli import console
from src.cli.commands.common import print_json
from src.config import db_path
from src.persistence.sqlite_client import Database
from src.targets.tokens import is_exact

HELP = "List the stored datasets."
HIDDEN_COLUMNS = ("config", "split_report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def run(args: argparse.Namespace) -> int:
    with Database(db_path()) as db:
        rows = db.list_datasets()
    if args.json:
        print_json([{**{k: v for k, v in r.items() if k not in HIDDEN_COLUMNS},
                     "tokens_exact": is_exact(r["provider"], r["model"])} for r in rows])
        return 0
    if not rows:
        console.info("No datasets yet. Generate one with `make demo` or `python -m src.main`.")
        return 0
    console.out(console.table(
        [[r["name"], f"{r['provider']}/{r['model']}", r["mode"], r["total_samples"],
          _tokens(r), r["created_at"]] for r in rows],
        ["name", "target", "mode", "samples", "tokens", "created"]))
    if not all(is_exact(r["provider"], r["model"]) for r in rows):
        console.info("~ marks token totals that are estimates (no offline Claude or Gemini "
                     "tokenizer exists).")
    return 0


def _tokens(row: dict) -> str:
    exact = is_exact(row["provider"], row["model"])
    return f"{row['total_tokens']:,}" if exact else f"~{row['total_tokens']:,}"
