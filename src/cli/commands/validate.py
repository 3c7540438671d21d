"""`validate` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "Check a JSONL file against a target provider and model (exit 1 when invalid)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`validate` is not built yet (tracked as issue 4).")
