"""`models` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "List target models with limits, prices and lifecycle status."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`models` is not built yet (tracked as issue 4).")
