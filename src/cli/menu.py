"""The numbered menu. Actions are thin: ask (prompts.py), call one function, print the result."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from src.cli import console
from src.cli.commands import COMMANDS
from src.cli.prompts import Cancelled, ask_choice
from src.errors import BuilderError, NotBuiltYet

TITLE = "=== Fine-Tuning Dataset Builder ==="


def _not_built(what: str, issue: int) -> Callable[[], None]:
    def action() -> None:
        raise NotBuiltYet(f"{what} is not built yet (tracked as issue {issue}).")
    return action


def _list_datasets() -> None:
    COMMANDS["list"].run(argparse.Namespace(json=False))


ENTRIES: list[tuple[str, Callable[[], None]]] = [
    ("Configure Dataset", _not_built("Configure Dataset", 9)),
    ("Generate Dataset", _not_built("Generate Dataset", 9)),
    ("View Dataset Statistics", _not_built("View Dataset Statistics", 8)),
    ("Export Dataset", _not_built("Export Dataset", 8)),
    ("Settings", _not_built("Settings", 9)),
    ("List Datasets", _list_datasets),
]


def run_menu() -> int:
    """Loop until Exit or end of input; errors are shown and the menu goes on."""
    labels = [label for label, _ in ENTRIES] + ["Exit"]
    while True:
        try:
            choice = ask_choice(TITLE, labels)
        except Cancelled:
            console.info("Goodbye.")
            return 0
        if choice == len(ENTRIES):
            console.info("Goodbye.")
            return 0
        try:
            ENTRIES[choice][1]()
        except Cancelled:
            console.info("Back to the main menu.")
        except BuilderError as exc:
            console.error(str(exc))
