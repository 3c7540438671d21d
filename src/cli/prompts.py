"""Questions asked in the menu. Each helper re-asks until the answer is valid; never crashes.

Ctrl-C or end of input raises `Cancelled`, which the menu treats as "go back".
"""

from __future__ import annotations

from collections.abc import Sequence

from src.cli import console


class Cancelled(Exception):
    """The user pressed Ctrl-C or closed standard input."""


def _read(prompt: str) -> str:
    try:
        return input(prompt)
    except (KeyboardInterrupt, EOFError):
        print()
        raise Cancelled from None


def ask_choice(title: str, options: Sequence[str], default: int | None = None) -> int:
    """Show numbered options; return the 0-based index chosen."""
    console.heading(title)
    for i, option in enumerate(options, start=1):
        console.info(f"  {i}. {option}")
    hint = f" [{default + 1}]" if default is not None else ""
    while True:
        answer = _read(f"Choose 1-{len(options)}{hint}: ").strip()
        if not answer and default is not None:
            return default
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return int(answer) - 1
        console.error(f"enter a number from 1 to {len(options)}")


def ask_int(question: str, default: int | None = None, lo: int = 1,
            hi: int = 10_000_000) -> int:
    hint = f" [{default}]" if default is not None else ""
    while True:
        answer = _read(f"{question}{hint}: ").strip().replace(",", "").replace("_", "")
        if not answer and default is not None:
            return default
        if answer.lstrip("-").isdigit() and lo <= int(answer) <= hi:
            return int(answer)
        console.error(f"enter a whole number from {lo} to {hi}")


def ask_float(question: str, default: float | None = None, lo: float = 0.0,
              hi: float = 1e12) -> float:
    hint = f" [{default:g}]" if default is not None else ""
    while True:
        answer = _read(f"{question}{hint}: ").strip()
        if not answer and default is not None:
            return default
        try:
            value = float(answer)
        except ValueError:
            value = float("nan")
        if lo <= value <= hi:
            return value
        console.error(f"enter a number from {lo:g} to {hi:g}")


def ask_text(question: str, default: str | None = None, allow_empty: bool = False) -> str:
    hint = f" [{default}]" if default else ""
    while True:
        answer = _read(f"{question}{hint}: ").strip()
        if not answer and default is not None:
            return default
        if answer or allow_empty:
            return answer
        console.error("an answer is needed (Ctrl-C goes back)")


def confirm(question: str, default: bool = True) -> bool:
    hint = "[Y/n]" if default else "[y/N]"
    while True:
        answer = _read(f"{question} {hint}: ").strip().lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        console.error("answer y or n")


def ask_multiline(question: str) -> str:
    """Read lines until an empty line; returns the joined text."""
    console.info(f"{question} (finish with an empty line)")
    lines: list[str] = []
    while True:
        line = _read("> ")
        if not line.strip():
            return "\n".join(lines).strip()
        lines.append(line)
