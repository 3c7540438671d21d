"""`restore` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "Restore the database from one of its automatic backups."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`restore` is not built yet (tracked as issue 8).")
