"""`restore` command: list the automatic backups and put one back in place of the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from src.cli import console
from src.cli.prompts import Cancelled, confirm
from src.config import db_path
from src.errors import UsageError
from src.persistence import backup

HELP = "Restore the database from one of its automatic backups."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("backup", nargs="?", default=None,
                        help="backup to restore: its number in the list, file name or path "
                             "(default: the latest)")
    parser.add_argument("--list", action="store_true", help="only list the backups")
    parser.add_argument("--yes", action="store_true", help="restore without asking")


def choose(backups: list[Path], wanted: str | None) -> Path:
    """The backup named by `wanted` (list number, file name or path), or the latest."""
    if wanted is None:
        return backups[0]
    if wanted.isdigit() and 1 <= int(wanted) <= len(backups):
        return backups[int(wanted) - 1]
    by_name = [p for p in backups if p.name == wanted]
    if by_name:
        return by_name[0]
    if Path(wanted).is_file():
        return Path(wanted)
    raise UsageError(f"No backup {wanted!r}. Give its number from the list "
                     "(`python -m src.main restore --list`), its file name or a path.")


def _confirmed(question: str) -> bool:
    try:
        return confirm(question, default=False)
    except Cancelled:
        return False


def run(args: argparse.Namespace) -> int:
    backups = backup.list_backups()
    if not backups and not args.backup:
        console.info(f"No backups yet in {backup.backups_dir()}; one is made before each run.")
        return 0
    if backups:
        console.out(console.table([[i, p.name, backup.backup_time(p), f"{p.stat().st_size:,}"]
                                   for i, p in enumerate(backups, start=1)],
                                  ["#", "backup", "taken", "bytes"]))
    if args.list:
        return 0
    chosen = choose(backups, args.backup)
    target = db_path()
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("Restoring replaces the current database; add --yes to confirm.")
        if not _confirmed(f"Replace {target} with {chosen.name}?"):
            console.info("Nothing restored.")
            return 0
    safety = backup.restore(chosen, target)
    console.success(f"Restored {target} from {chosen}.")
    if safety:
        console.info(f"The database as it was is kept as {safety}.")
    return 0
