"""`analyze-errors` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "Group a dataset's rejected samples into error categories with recommendations."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`analyze-errors` is not built yet (tracked as issue 7).")
