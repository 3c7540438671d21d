"""`stats` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "Show statistics of a stored dataset."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`stats` is not built yet (tracked as issue 8).")
