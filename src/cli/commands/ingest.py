"""`ingest` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "Show what the tool reads from files or folders (format, blocks, tokens, or the error)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`ingest` is not built yet (tracked as issue 3).")
