"""`export` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "Re-export a stored dataset (JSONL, CSV metadata, stats)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`export` is not built yet (tracked as issue 8).")
