"""`tokens` command: per-example and total token counts of a JSONL file for a target."""

from __future__ import annotations

import argparse

from src.cli import console
from src.cli.commands.common import print_json, target_from_args
from src.errors import InputFileError, UsageError
from src.targets.tokens import count_jsonl

HELP = "Count tokens per example of a JSONL file with the target's tokenizer."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the JSONL file to count")
    parser.add_argument("--provider", help="target provider (default: config.yaml `provider`)")
    parser.add_argument("--model", help="target model (default: config.yaml `model`)")
    parser.add_argument("--config", help="config file (default: config.yaml)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def run(args: argparse.Namespace) -> int:
    config, provider, model = target_from_args(args)
    try:
        result = count_jsonl(args.file, provider, model)
    except InputFileError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print_json(result)
        return 0
    label = "tokens" if result["token_counts"] == "exact" else "tokens (estimate)"
    console.out(console.table([[str(r["line"]), str(r["tokens"])] for r in result["examples"]],
                              ["line", label]))
    console.out(f"Total: {result['total_tokens']:,} {label} in {len(result['examples']):,} "
                f"examples; largest {result['max_tokens']:,}; mean {result['mean_tokens']} "
                f"[{result['tokenizer']}]")
    if result["skipped_lines"]:
        console.warn(f"Skipped {len(result['skipped_lines'])} unreadable line(s), first: "
                     f"{result['skipped_lines'][:5]}; run `validate` for details.")
    return 0
