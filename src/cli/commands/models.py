"""`models` command: the target catalog with limits, prices, tokenizer and lifecycle status."""

from __future__ import annotations

import argparse
import dataclasses

from src.cli import console
from src.cli.commands.common import print_json
from src.config import TARGET_PROVIDERS
from src.targets import catalog
from src.targets.tokens import tokenizer_name

HELP = "List target models with limits, prices and lifecycle status."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=TARGET_PROVIDERS, help="only this provider")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def _row(spec: catalog.ModelSpec) -> list[str]:
    price = "-" if spec.training_price_per_1m is None else f"${spec.training_price_per_1m:g}"
    price += "?" if spec.training_price_per_1m is not None and "UNCONFIRMED" in spec.price_note else ""
    return [spec.provider, spec.model, f"{spec.max_tokens_per_example:,}",
            f"{spec.min_examples or '-'}..{spec.max_examples and f'{spec.max_examples:,}' or '-'}",
            price, _tokenizer_label(spec), catalog.status(spec)]


def _tokenizer_label(spec: catalog.ModelSpec) -> str:
    label = tokenizer_name(spec.provider, spec.model)
    if spec.tokenizer.startswith("estimate"):
        return "estimate: " + label.split("(", 1)[1].split(";")[0]
    return label.split(" (")[0]


def _as_dict(spec: catalog.ModelSpec) -> dict:
    data = dataclasses.asdict(spec)
    data.update(status=catalog.status(spec), tokenizer_label=tokenizer_name(spec.provider, spec.model),
                warning=catalog.lifecycle_warning(spec.provider, spec.model))
    return data


def run(args: argparse.Namespace) -> int:
    providers = [args.provider] if args.provider else catalog.providers_open_first()
    specs = [spec for p in providers for spec in catalog.models_open_first(p)]
    if args.json:
        print_json({"as_of": catalog.AS_OF, "models": [_as_dict(s) for s in specs],
                    "sources": catalog.SOURCES})
        return 0
    header = ["provider", "model", "tokens/example", "examples", "train $/1M", "tokenizer", "status"]
    console.out(console.table([_row(s) for s in specs], header))
    console.out(f"Facts as of {catalog.AS_OF}; open targets (amazon, together, fireworks, Gemini "
                f"3.x) checked {catalog.CHECKED}; sources and notes: `models --json`. '?' marks an "
                "UNCONFIRMED price. Open targets come first; retired/closing/deprecated targets "
                "still format and validate. Claude is fine-tuned on Amazon Bedrock.")
    return 0
