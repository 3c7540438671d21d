"""Entry point: `python -m src.main` opens the menu; `python -m src.main COMMAND` runs a command."""

from __future__ import annotations

import argparse
import logging
import sys

from src.cli import console
from src.cli.commands import COMMANDS
from src.cli.menu import run_menu
from src.config import load_env
from src.errors import BuilderError, reraise_bugs
from src.logs import setup_logging

log = logging.getLogger("src.main")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m src.main",
        description="Fine-Tuning Dataset Builder: turn documents into fine-tuning datasets. "
                    "With no command, opens the interactive menu.")
    parser.add_argument("--config", metavar="F", dest="menu_config",
                        help="config file for the menu (default: config.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def run_command(name: str, args: argparse.Namespace) -> int:
    """Run one command; our errors become one message and an exit code, never a traceback."""
    try:
        return COMMANDS[name].run(args)
    except BuilderError as exc:
        console.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        console.warn("Stopped by Ctrl-C. Work already saved is kept; run the same command to resume.")
        return 130
    except Exception as exc:  # a bug: keep the traceback in the log, not on the screen
        if reraise_bugs():
            raise
        log.exception("unexpected error in %s", name)
        console.error(f"Internal error ({exc.__class__.__name__}: {exc}). Details are in "
                      "memory/logs/builder.log; please report them.")
        return 70


def main(argv: list[str] | None = None) -> int:
    load_env()
    setup_logging()
    args = build_parser().parse_args(argv)
    if not args.command:
        return run_menu(args.menu_config)
    return run_command(args.command, args)


if __name__ == "__main__":
    sys.exit(main())
