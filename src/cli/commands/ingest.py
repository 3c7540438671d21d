"""`ingest` command: show what the tool reads from files or folders, or why it cannot."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from src.cli import console
from src.cli.commands.common import (
    add_password_argument,
    add_workers_argument,
    config_from_args,
    passwords_from_args,
    print_json,
)
from src.config import worker_count
from src.engine.local import LocalEngine
from src.engine.work import Job, summarize_file
from src.ingest.file_processor import summarize_one
from src.ingest.inputs import walk
from src.models import IngestFailure
from src.utils.text import printable_name

HELP = "Show what the tool reads from files or folders (format, blocks, tokens, or the error)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.add_argument("--config", help="config file (default: config.yaml)")
    add_password_argument(parser)
    add_workers_argument(parser)


def _line(summary: dict[str, Any]) -> str:
    if not summary["ok"]:
        return f"{summary['file']}: {summary['error']}"
    units = f", {summary['units']} {summary['unit_name']}" if summary["unit_name"] else ""
    parts = f", read in {summary['parts']} parts" if summary.get("parts", 1) > 1 else ""
    return (f"{summary['file']}: {summary['format']}, {summary['blocks']} blocks{units}, "
            f"{summary['characters']:,} characters, {summary['tokens']:,} "
            f"{summary['token_unit']}{parts}")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, {"workers": "system.workers"})
    job = Job(config, passwords_from_args(args))
    summaries = []
    with LocalEngine(worker_count(config), progress=not args.json and sys.stderr.isatty()) as engine:
        for given in args.paths:
            for result in engine.map_inputs(list(walk([given], config.input)), summarize_file, job):
                for summary in [summarize_one(result)] if isinstance(result, IngestFailure) \
                        else result:
                    summary["file"] = _shown(given, summary["file"])
                    summaries.append(summary)
                    if not args.json:
                        _show(summary)
    read = sum(1 for s in summaries if s["ok"])
    if args.json:
        print_json({"files": summaries, "read": read, "failed": len(summaries) - read})
    else:
        console.info(f"{read} of {len(summaries)} file(s) read.")
    return 0 if read else 1


def _show(summary: dict[str, Any]) -> None:
    (console.out if summary["ok"] else console.error)(_line(summary))
    for warning in summary.get("warnings", []):
        console.warn(f"{summary['file']}: {warning}")


def _shown(given: str, name: str) -> str:
    """A file as the user named it: the path typed, or the folder typed joined with the name."""
    return printable_name(os.path.join(given, name) if os.path.isdir(given) else given)
