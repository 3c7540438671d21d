"""The builder document's provider interface for fine-tuning TARGETS, one object per provider.

Per-provider differences are data (catalog.MODELS for limits, formatter for shapes, validator.RULES
for checks); a Target only binds them to one provider name. Agent-side LLM clients live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from src.config import BUNDLE_FORMATS, OPEN_FORMATS
from src.models import Example
from src.targets import catalog, formatter, validator


@dataclass(frozen=True)
class Target:
    """One fine-tuning provider: its models, limits, format, validation and lifecycle."""

    name: str
    label: str
    note: str = ""

    def get_models(self) -> list[str]:
        """Canonical model ids of this provider in the catalog."""
        return [m.model for m in catalog.list_models(self.name)]

    def spec(self, model: str | None = None) -> catalog.ModelSpec:
        """The catalog entry (default model when none is given)."""
        return catalog.get_model(self.name, model or catalog.DEFAULT_MODEL[self.name])

    def get_token_limit(self, model: str) -> int:
        """Max tokens per training example."""
        return self.spec(model).max_tokens_per_example

    def get_max_training_tokens(self, model: str) -> int | None:
        """Max training tokens per job, or None when the provider publishes no cap."""
        return self.spec(model).max_training_tokens

    def training_price(self, model: str) -> float | None:
        """USD per 1M training tokens, or None when not published."""
        return self.spec(model).training_price_per_1m

    @property
    def native_format(self) -> str:
        return formatter.native_format(self.name)

    def export_formats(self, model: str | None = None) -> list[str]:
        """Formats worth exporting for a model: native, plus open-trainer formats for open weights."""
        extra = [*OPEN_FORMATS, *BUNDLE_FORMATS] if self.spec(model).open_weight else []
        return [self.native_format, *extra]

    def format_example(self, example: Example, fmt: str | None = None) -> dict:
        """One JSONL record in this provider's native format (or `fmt`)."""
        return formatter.format_example(example, fmt or self.native_format)

    def validate_dataset(self, dataset_or_path: str | Path | Iterable[Example | dict],
                         model: str | None = None, *, split: str = "train",
                         fmt: str | None = None) -> validator.ValidationReport:
        """Validate a JSONL path, or Examples / records in memory, against a model of this provider."""
        model = model or catalog.DEFAULT_MODEL[self.name]
        if isinstance(dataset_or_path, (str, Path)):
            return validator.validate_file(dataset_or_path, self.name, model, split=split, fmt=fmt)
        records = (self.format_example(r, fmt) if isinstance(r, Example) else r
                   for r in dataset_or_path)
        return validator.validate_records(records, self.name, model, split=split, fmt=fmt)

    def size_cap(self, desired: int, model: str,
                 tokens_per_example: int | None = None) -> catalog.SizeDecision:
        """validate_dataset_size for this provider."""
        return catalog.validate_dataset_size(desired, self.name, model, tokens_per_example)

    def lifecycle(self, model: str) -> dict[str, Any]:
        """Status (active/closing/deprecated/retired), dates, alternatives and sources of a model."""
        spec = self.spec(model)
        return {"status": catalog.status(spec), "new_jobs_until": spec.new_jobs_until,
                "shutdown": spec.shutdown, "deprecated": spec.deprecated or None,
                "alternatives": list(spec.alternatives), "as_of": spec.as_of,
                "sources": {k: v for k, v in spec.sources.items()
                            if k in ("shutdown", "new_jobs_until", "deprecated")},
                "warning": catalog.lifecycle_warning(self.name, spec.model)}


TARGETS: dict[str, Target] = {
    "openai": Target("openai", "OpenAI", "self-serve fine-tuning closes to new jobs on 2027-01-06 [O1]"),
    "anthropic": Target("anthropic", "Anthropic Claude (fine-tuned on Amazon Bedrock)",
                        "Claude fine-tuning runs on Amazon Bedrock, not Anthropic's API [A1][A2]"),
    "google": Target("google", "Google Gemini (Vertex AI supervised tuning)"),
    "mistral": Target("mistral", "Mistral", "Mistral's fine-tuning API is deprecated [M1]"),
    "llama": Target("llama", "Meta Llama 3.1 (generic hosted fine-tuning, OpenAI chat format)",
                    "the together and fireworks targets use each host's own model ids"),
    "amazon": Target("amazon", "Amazon Bedrock Nova (Micro, Lite, Pro, Nova 2 Lite)",
                     "bedrock-conversation-2024 JSONL in S3; reserved words like 'User:' fail a job [N1]"),
    "together": Target("together", "Together AI (LoRA/full fine-tuning of Llama 3.x, Qwen 3)"),
    "fireworks": Target("fireworks", "Fireworks AI (LoRA fine-tuning of Qwen 3, Llama 3)"),
}


def targets_open_first() -> list[Target]:
    """Every Target, providers with an open (active) model first."""
    return [TARGETS[p] for p in catalog.providers_open_first()]


def get_target(provider: str) -> Target:
    """The Target for a provider name (ConfigError listing valid ones otherwise)."""
    catalog.list_models(provider)  # raises ConfigError for an unknown provider
    return TARGETS[provider]
