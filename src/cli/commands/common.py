"""Helpers the command modules share: loading config with flag overrides, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from src.config import Config, load_config
from src.errors import UsageError
from src.masking import mask_secrets


def config_from_args(args: argparse.Namespace, flag_map: dict[str, str]) -> Config:
    """Load --config (or config.yaml) and apply every flag in flag_map {arg name: dotted key}."""
    overrides = {key: getattr(args, name, None) for name, key in flag_map.items()}
    return load_config(getattr(args, "config", None), overrides)


def print_json(data: Any) -> None:
    """One JSON object on stdout (for --json), secrets masked like every other output."""
    sys.stdout.write(mask_secrets(json.dumps(data, ensure_ascii=False, indent=2, default=str)))
    sys.stdout.write("\n")
    sys.stdout.flush()


def target_from_args(args: argparse.Namespace) -> tuple[Config, str, str]:
    """(config, provider, model) from --config/--provider/--model, defaulting to config.yaml."""
    config = load_config(args.config)
    provider = args.provider or config.provider
    model = args.model or (config.model if provider == config.provider else None)
    if not model:
        raise UsageError(f"Give --model for provider {provider} (see `python -m src.main models`).")
    return config, provider, model


def add_password_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password", action="append", default=[], metavar="FILE=PASSWORD",
                        help="password of an encrypted PDF (file name or path); repeatable; "
                             "used for this run only, never stored")


def add_decontaminate_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--decontaminate", nargs="+", metavar="FILE", default=None,
                        type=lambda path: str(Path(path).resolve()),
                        help="evaluation sets (JSONL, CSV or Parquet): samples that overlap them "
                             "are rejected as contaminated")


def passwords_from_args(args: argparse.Namespace) -> dict[str, str]:
    """{file name or path: password} from repeated --password FILE=PASSWORD."""
    passwords = {}
    for pair in args.password:
        name, sep, secret = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--password {pair.split('=')[0]}=...: write it as FILE=PASSWORD.")
        passwords[name] = secret
    return passwords


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, metavar="N",
                        help="processes that read files and score samples (default: "
                             "system.workers, 0 = one per core)")
