"""`validate` command: check a JSONL file against a target provider and model."""

from __future__ import annotations

import argparse
from pathlib import Path

from src.cli import console
from src.cli.commands.common import add_decontaminate_argument, print_json, target_from_args
from src.cli.render import contamination_summary, quality_summary
from src.config import Config
from src.errors import InputFileError, UsageError
from src.quality.decontaminate import check_file
from src.quality.file_report import score_jsonl
from src.targets.formatter import FORMATS
from src.targets.validator import ValidationReport, validate_file
from src.utils.text import strip_source_tags

HELP = ("Check a JSONL file against a target provider and model (exit 1 when invalid, or when "
        "--decontaminate finds overlap with an evaluation set).")
SHOWN = 20  # issues printed per list in the human summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the JSONL file to check")
    parser.add_argument("--provider", help="target provider (default: config.yaml `provider`)")
    parser.add_argument("--model", help="target model (default: config.yaml `model`)")
    parser.add_argument("--format", choices=("native", *FORMATS), default=None,
                        help="record format (default: detected from the first line)")
    parser.add_argument("--split", choices=("train", "validation"), default="train")
    parser.add_argument("--config", help="config file (default: config.yaml)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    parser.add_argument("--quality", action="store_true", help="also score sample quality")
    parser.add_argument("--threshold", type=float, help="quality threshold (with --quality)")
    parser.add_argument("--report", type=Path, help="write the quality report JSON here")
    add_decontaminate_argument(parser)


def _render(report: ValidationReport, path: str) -> str:
    counts = "exact" if report.exact else "ESTIMATE"
    lines = [f"{path}: {report.examples:,} examples for {report.provider}/{report.model} "
             f"({report.format} format)",
             f"Tokens ({counts}; {report.tokenizer}): total {report.total_tokens:,}, largest "
             f"example {report.max_example_tokens:,} of {report.token_limit:,} allowed"]
    if report.training_cost_per_epoch_usd is not None:
        lines.append(f"Training cost per epoch: ~${report.training_cost_per_epoch_usd:,.4f}")
    for title, issues, counts_by_rule in (("Errors", report.errors, report.error_counts),
                                          ("Warnings", report.warnings, report.warning_counts)):
        if issues:
            total = sum(counts_by_rule.values())
            lines.append(f"{title} ({total:,}; by rule: {dict(counts_by_rule)}):")
            lines += [f"  {f'line {i.line}' if i.line else 'file'} [{i.rule}] "
                      f"{strip_source_tags(i.message)}"
                      for i in issues[:SHOWN]]
            if total > SHOWN:
                lines.append(f"  ... {total - SHOWN:,} more (use --json for the first 200)")
    lines.append("VALID" if report.ok else "INVALID: fix the errors above and run validate again.")
    return "\n".join(lines)


def _quality(args: argparse.Namespace, config: Config) -> dict:
    return score_jsonl(Path(args.file), config, args.threshold, args.report)


def _contamination(args: argparse.Namespace) -> dict | None:
    if not args.decontaminate:
        return None
    try:
        return check_file(Path(args.file), [Path(p) for p in args.decontaminate])
    except InputFileError as exc:
        raise UsageError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    config, provider, model = target_from_args(args)
    try:
        report = validate_file(args.file, provider, model, split=args.split, fmt=args.format)
    except InputFileError as exc:
        raise UsageError(str(exc)) from exc
    quality = _quality(args, config) if args.quality else None
    contamination = _contamination(args)
    if args.json:
        print_json({**report.to_dict(), **({"quality": quality} if quality else {}),
                    **({"contamination": contamination} if contamination else {})})
    else:
        console.out(_render(report, args.file))
        if quality is not None:
            for line in quality_summary(quality):
                console.out(line)
        if contamination is not None:
            for line in contamination_summary(contamination):
                console.out(line)
    clean = not contamination or not contamination["contaminated"]
    return 0 if report.ok and clean else 1
