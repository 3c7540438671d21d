"""`tokens` command (not built yet)."""

import argparse

from src.errors import NotBuiltYet

HELP = "Count tokens per example of a JSONL file with the target's tokenizer."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltYet("`tokens` is not built yet (tracked as issue 4).")
