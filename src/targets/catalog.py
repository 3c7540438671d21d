"""One catalog of provider facts: target limits, tokenizers, prices, lifecycle — each with its source.

Every number comes from ../shared/reference/provider_specs.md (written 2026-11-21 from stored copies
of public docs) or, for the rows added on 2026-12-05 (Nova, Gemini 3.x, Together, Fireworks), from
the sources checked that day; the `[tag]` next to it resolves in SOURCES below and each row carries
its `as_of` date. When a provider changes a limit, change it here and only here. Lifecycle status
is computed from the dates against today's date. A trainer reads `service`, `job_model_id` (the id
the provider's job API takes) and `status()` from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from src.config import TARGET_PROVIDERS
from src.errors import ConfigError
from src.targets import open_targets
from src.targets.spec import AS_OF, CHECKED, GB, MB, ModelSpec, spec_row

__all__ = ["AS_OF", "CHECKED", "GB", "MB", "ModelSpec"]


SOURCES = {
    "O1": "developers.openai.com/api/docs/deprecations (self-serve fine-tuning notice, 2026-05-07)",
    "O2": "OpenAI API reference 'Create fine-tuning job' mirror (updated 2026-11-10)",
    "O4": "codersera.com/blog/gpt-4o-gpt-4-1-api-shutdown-migration-2026 (secondary)",
    "O5": "dev.to/importstatic/every-openai-model-shutdown-date-until-january-2027 (secondary)",
    "O6": "github.com/openai/openai-openapi openapi.yaml (HEAD 2026-08-21)",
    "O7": "platform.openai.com/docs/guides/fine-tuning (archived ~Dec 2024)",
    "O9": "github.com/openai/tiktoken tiktoken/model.py (HEAD 2026-08-16)",
    "O10": "developers.openai.com/docs/guides/distillation (SFT guide body: min 10, start with 50)",
    "O11": "MicrosoftDocs/azure-ai-docs fine-tune-models.md (Azure, not OpenAI)",
    "O12": "tokonomics.ca/blog/llm-fine-tuning-costs-guide (secondary pricing)",
    "O14": "openai-cookbook examples/Chat_finetuning_data_prep.ipynb (commit b774cbf)",
    "A1": "docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.md",
    "A2": "anthropics/claude-cookbooks finetuning/finetuning_on_bedrock.ipynb (commit 4ecd9df)",
    "A4": "docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-3-haiku.html",
    "G1": "docs.cloud.google.com/gemini-enterprise-agent-platform/models/tuning/supervised-tuning.md.txt",
    "G2": "cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare",
    "GT": "ai.google.dev/gemini-api/docs/tokens ('a token is about 4 characters')",
    "M1": "mistralai/platform-docs-public docs/resources/deprecated/finetuning (HEAD 2026-08-21)",
    "M2": "github.com/mistralai/mistral-finetune README, utils/validate_data.py (HEAD 2026-06-12)",
    "M3": "mistralai/platform-docs-public finetuning FAQ page.mdx",
    "M4": "github.com/mistralai/mistral-common tokenizers/mistral.py (HEAD 2026-07-23)",
    "M7": "mistralai/platform-docs-public docs/_guides/tokenization/page.mdx",
    "L1": "github.com/meta-llama/llama-models models/llama3_1/MODEL_CARD.md",
    "L3": "github.com/meta-llama/llama-models models/llama3/tokenizer.py",
    "T1": "docs.together.ai/docs/fine-tuning/data-preparation",
    "T2": "github.com/togethercomputer/together-python src/together/utils/files.py (HEAD 2025-12-23)",
    "T3": "docs.together.ai/docs/fine-tuning-models",
    "F1": "docs.fireworks.ai/fine-tuning/fine-tuning-models.md",
    "P1": "github.com/hiyouga/LLaMA-Factory data/README.md",
    **open_targets.SOURCES,
}


_OPENAI = dict(
    service="OpenAI fine-tuning API", over_limit="truncate", min_examples=10,
    recommended_examples=50, max_examples=None, max_validation_examples=None,
    max_file_bytes=512 * MB, max_training_tokens=None, new_jobs_until="2027-01-06",
    alternatives=("together:meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
                  "fireworks:accounts/fireworks/models/qwen3-8b", "google:gemini-2.5-flash",
                  "amazon:amazon.nova-lite-v1:0:300k"),
    sources={"max_tokens_per_example": "O7/O11", "min_examples": "O7/O10", "max_file_bytes": "O6",
             "new_jobs_until": "O1/O2", "shutdown": "O4/O5", "tokenizer": "O9",
             "training_price_per_1m": "O7/O12"})
_GEMINI = dict(
    service="Vertex AI supervised tuning", tokenizer="estimate_gemini",
    max_tokens_per_example=131_072, over_limit="reject", min_examples=None,
    recommended_examples=100, max_examples=10_000_000, max_validation_examples=5_000,
    max_file_bytes=1 * GB, max_training_tokens=None, training_price_per_1m=None,
    price_note="billed tokens = dataset tokens x epochs; price per token UNCONFIRMED [G1]",
    sources={"max_tokens_per_example": "G1", "max_examples": "G1", "max_validation_examples": "G1",
             "max_file_bytes": "G1", "recommended_examples": "G2", "tokenizer": "GT"})
_MISTRAL = dict(
    service="Mistral fine-tuning API (deprecated) / mistral-finetune", over_limit="reject",
    min_examples=None, recommended_examples=10, max_examples=10_000_000,
    max_validation_examples=None, max_file_bytes=512 * MB, max_training_tokens=None,
    training_price_per_1m=None, price_note="$4 minimum per job + $2/month per stored model [M1]",
    deprecated="Mistral moved fine-tuning under 'Deprecated: no longer actively supported' [M1]",
    alternatives=("together:Qwen/Qwen3-8B", "fireworks:accounts/fireworks/models/qwen3-8b",
                  "together:meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"),
    sources={"max_tokens_per_example": "M2", "recommended_examples": "M2", "max_examples": "M2",
             "max_file_bytes": "M3", "tokenizer": "M4/M7", "deprecated": "M1"})
_LLAMA = dict(
    service="hosted fine-tuning (Together AI / Fireworks, OpenAI chat format)", tokenizer="llama3",
    max_tokens_per_example=131_072, over_limit="truncate", min_examples=3,
    recommended_examples=100, max_examples=3_000_000, max_validation_examples=None,
    max_file_bytes=50_100_000_000, max_training_tokens=None, training_price_per_1m=None,
    price_note="per-host pricing, not in the reference", open_weight=True,
    note="generic Llama 3.1 row; the `together` and `fireworks` targets use each host's own ids",
    sources={"max_tokens_per_example": "L1/T3", "min_examples": "F1", "max_examples": "F1",
             "max_file_bytes": "T2", "tokenizer": "L3"})


MODELS: list[ModelSpec] = [
    spec_row(_OPENAI, provider="openai", model="gpt-4o-2024-08-06", label="GPT-4o", aliases=("gpt-4o",),
          tokenizer="o200k_base", max_tokens_per_example=65_536, training_price_per_1m=25.0,
          price_note="secondary source only, UNCONFIRMED [O12]", shutdown="2027-01-14"),
    spec_row(_OPENAI, provider="openai", model="gpt-4o-mini-2024-07-18", label="GPT-4o mini",
          aliases=("gpt-4o-mini",), tokenizer="o200k_base", max_tokens_per_example=65_536,
          training_price_per_1m=3.0, price_note="derived from the guide's worked example [O7]",
          shutdown="2027-01-14"),
    spec_row(_OPENAI, provider="openai", model="gpt-4.1-2025-04-14", label="GPT-4.1",
          aliases=("gpt-4.1",), tokenizer="o200k_base", max_tokens_per_example=65_536,
          training_price_per_1m=25.0, price_note="often quoted, UNCONFIRMED; limit per Azure [O11]",
          shutdown="2027-01-14"),
    spec_row(_OPENAI, provider="openai", model="gpt-4.1-mini-2025-04-14", label="GPT-4.1 mini",
          aliases=("gpt-4.1-mini",), tokenizer="o200k_base", max_tokens_per_example=65_536,
          training_price_per_1m=5.0, price_note="often quoted, UNCONFIRMED; limit per Azure [O11]",
          shutdown="2027-01-14"),
    spec_row(_OPENAI, provider="openai", model="gpt-4.1-nano-2025-04-14", label="GPT-4.1 nano",
          aliases=("gpt-4.1-nano",), tokenizer="o200k_base", max_tokens_per_example=32_768,
          training_price_per_1m=1.5, price_note="often quoted, UNCONFIRMED; limit per Azure [O11]",
          shutdown="2026-10-23"),
    spec_row(_OPENAI, provider="openai", model="gpt-3.5-turbo-0125", label="GPT-3.5 Turbo",
          aliases=("gpt-3.5-turbo", "gpt-3.5-turbo-1106"), tokenizer="cl100k_base",
          max_tokens_per_example=16_385, training_price_per_1m=8.0,
          price_note="derived from the guide's worked example [O7]", shutdown="2026-10-23"),
    ModelSpec(
        provider="anthropic", model="anthropic.claude-3-haiku-20240307-v1:0:200k",
        label="Claude 3 Haiku (fine-tuned on Amazon Bedrock)", service="Amazon Bedrock",
        aliases=("claude-3-haiku", "claude-3-haiku-20240307", "anthropic.claude-3-haiku-20240307-v1:0"),
        tokenizer="estimate_claude", max_tokens_per_example=32_000, over_limit="reject",
        min_examples=32, recommended_examples=32, max_examples=10_000, max_validation_examples=1_000,
        max_file_bytes=10 * GB, max_training_tokens=None, training_price_per_1m=None,
        price_note="Bedrock customization price not in the reference; hosting needs Provisioned "
                   "Throughput [A2]",
        shutdown="2026-09-10",
        alternatives=("amazon:amazon.nova-lite-v1:0:300k", "amazon:amazon.nova-micro-v1:0:128k",
                      "google:gemini-2.5-flash"),
        sources={"max_tokens_per_example": "A1", "min_examples": "A1", "max_examples": "A1",
                 "max_validation_examples": "A1", "max_file_bytes": "A1", "shutdown": "A4"}),
    spec_row(_GEMINI, provider="google", model="gemini-2.5-pro", label="Gemini 2.5 Pro"),
    spec_row(_GEMINI, provider="google", model="gemini-2.5-flash", label="Gemini 2.5 Flash"),
    spec_row(_GEMINI, provider="google", model="gemini-2.5-flash-lite", label="Gemini 2.5 Flash-Lite"),
    spec_row(_GEMINI, provider="google", model="gemini-3.1-flash-lite", label="Gemini 3.1 Flash-Lite"),
    spec_row(_GEMINI, provider="google", model="gemini-2.0-flash", label="Gemini 2.0 Flash",
          aliases=("gemini-2.0-flash-001", "gemini-2.0-flash-lite"),
          deprecated="dropped from Vertex AI's supported tuning list (its limits table remains) [G1]",
          alternatives=("google:gemini-2.5-flash", "google:gemini-2.5-flash-lite"),
          sources={"deprecated": "G1"}),
    spec_row(_MISTRAL, provider="mistral", model="open-mistral-7b", label="Mistral 7B",
          aliases=("mistral-7b", "mistral-7b-instruct-v0.3", "open-mistral-7b-v0.3"),
          tokenizer="mistral_v3", max_tokens_per_example=32_768, open_weight=True),
    spec_row(_MISTRAL, provider="mistral", model="mistral-large-2407", label="Mistral Large v2",
          aliases=("mistral-large-v2", "mistral-large-latest"), tokenizer="mistral_v3",
          max_tokens_per_example=8_192),
    spec_row(_MISTRAL, provider="mistral", model="open-mistral-nemo-2407", label="Mistral Nemo",
          aliases=("open-mistral-nemo", "mistral-nemo"), tokenizer="tekken",
          max_tokens_per_example=16_384, open_weight=True),
    spec_row(_MISTRAL, provider="mistral", model="open-mixtral-8x7b", label="Mixtral 8x7B",
          aliases=("mixtral-8x7b",), tokenizer="mistral_v1", max_tokens_per_example=32_768,
          open_weight=True, deprecated="not in Mistral's fine-tuning API list; train the open "
          "weights with mistral-finetune (needs the v3 tokenizer and vocab extended to 32,768) [M1][M2]"),
    spec_row(_LLAMA, provider="llama", model="llama-3.1-8b", label="Llama 3.1 8B",
          aliases=("meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct",
                   "llama-3.1-8b-instruct", "llama3.1-8b")),
    spec_row(_LLAMA, provider="llama", model="llama-3.1-70b", label="Llama 3.1 70B",
          aliases=("meta-llama/Meta-Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-70B-Instruct",
                   "llama-3.1-70b-instruct", "llama3.1-70b")),
    spec_row(_LLAMA, provider="llama", model="llama-3.1-405b", label="Llama 3.1 405B",
          aliases=("meta-llama/Meta-Llama-3.1-405B-Instruct", "meta-llama/Llama-3.1-405B-Instruct",
                   "llama-3.1-405b-instruct", "llama3.1-405b"),
          price_note="405B tuning on Together is by request only [T3]"),
]

MODELS += open_targets.ROWS
DEFAULT_MODEL = {**open_targets.DEFAULT_MODEL, "openai": "gpt-4o-mini-2024-07-18",
                 "anthropic": "anthropic.claude-3-haiku-20240307-v1:0:200k",
                 "google": "gemini-2.5-flash", "mistral": "open-mistral-7b", "llama": "llama-3.1-8b"}

# --- Lookups --------------------------------------------------------------------------------------
def _index() -> dict[tuple[str, str], ModelSpec]:
    table: dict[tuple[str, str], ModelSpec] = {}
    for spec in MODELS:
        for name in (spec.model, *spec.aliases):
            table[(spec.provider, name.lower())] = spec
    return table


_INDEX = _index()
PROVIDERS = TARGET_PROVIDERS


def base_model_name(model: str) -> str:
    """Strip an OpenAI `ft:` prefix: "ft:gpt-4.1-mini-2025-04-14:org::id" -> the base snapshot."""
    if model.startswith("ft:"):
        return model[3:].split(":", 1)[0]
    return model


def list_models(provider: str | None = None) -> list[ModelSpec]:
    """Catalog entries, optionally for one provider."""
    if provider is not None and provider not in PROVIDERS:
        raise ConfigError(f"Unknown provider {provider!r}: choose one of {', '.join(PROVIDERS)}.")
    return [m for m in MODELS if provider is None or m.provider == provider]


def get_model(provider: str, model: str) -> ModelSpec:
    """The catalog entry for a target; accepts snapshot names, short aliases and `ft:` ids."""
    list_models(provider)  # validates the provider
    spec = _INDEX.get((provider, base_model_name(model).lower()))
    if spec is None:
        valid = ", ".join(m.model for m in list_models(provider))
        raise ConfigError(f"Unknown {provider} target model {model!r}. Valid models: {valid} "
                          "(see `python -m src.main models`).")
    return spec


# --- Lifecycle ------------------------------------------------------------------------------------
OWN_TRAINERS = "trl|llamafactory|axolotl|hf"


def is_open(spec: ModelSpec, today: date | None = None) -> bool:
    """True when the target takes new fine-tuning jobs with no announced end."""
    return status(spec, today) == "active"


def providers_open_first(today: date | None = None) -> list[str]:
    """Target providers, those with an open model first (catalog order kept within each group)."""
    return sorted(PROVIDERS, key=lambda p: not any(is_open(m, today) for m in list_models(p)))


def models_open_first(provider: str, today: date | None = None) -> list[ModelSpec]:
    """A provider's models, open ones first."""
    return sorted(list_models(provider), key=lambda m: not is_open(m, today))

def status(spec: ModelSpec, today: date | None = None) -> str:
    """active | closing | deprecated | retired, judged against today's date."""
    today = today or date.today()
    if spec.shutdown and date.fromisoformat(spec.shutdown) <= today:
        return "retired"
    if spec.new_jobs_until and date.fromisoformat(spec.new_jobs_until) < today:
        return "retired"
    if spec.deprecated:
        return "deprecated"
    if spec.new_jobs_until or spec.shutdown:
        return "closing"
    return "active"


def _lifecycle_reason(spec: ModelSpec, state: str, today: date) -> str:
    if state == "retired" and spec.shutdown and date.fromisoformat(spec.shutdown) <= today:
        return f"was shut down on {spec.shutdown} [{spec.sources.get('shutdown', '')}]"
    if state == "retired":
        return f"stopped accepting new fine-tuning jobs on {spec.new_jobs_until}"
    if state == "deprecated":
        return spec.deprecated
    parts = []
    if spec.new_jobs_until:
        parts.append(f"accepts new fine-tuning jobs only until {spec.new_jobs_until}")
    if spec.shutdown:
        parts.append(f"shuts down on {spec.shutdown} (its fine-tunes with it)")
    return " and ".join(parts)


def lifecycle_warning(provider: str, model: str, today: date | None = None) -> str | None:
    """A warning for a retired, deprecated or closing target (with what to pick instead), else None."""
    spec = get_model(provider, model)
    today = today or date.today()
    state = status(spec, today)
    if state == "active":
        return None
    instead = (f" Open instead: {', '.join(spec.alternatives)}" if spec.alternatives else
               " Open instead: any active target of `models`")
    instead += f"; or train open weights yourself: export NAME --format {OWN_TRAINERS}."
    return (f"{spec.label} ({spec.service}) {_lifecycle_reason(spec, state, today)} (facts as of "
            f"{spec.as_of}).{instead} The file is still formatted and validated for this target.")


# --- Size cap -------------------------------------------------------------------------------------
@dataclass
class SizeDecision:
    """The dataset size to build for a target, and what was capped and why."""

    desired: int
    size: int
    capped: bool
    message: str
    warnings: list[str] = dataclasses.field(default_factory=list)


def validate_dataset_size(desired: int, provider: str, model: str,
                          tokens_per_example: int | None = None) -> SizeDecision:
    """Cap `desired` to the target's max examples and max training tokens; say what and why."""
    spec = get_model(provider, model)
    size, reasons, warnings = max(0, desired), [], []
    if spec.max_examples is not None and size > spec.max_examples:
        size = spec.max_examples
        reasons.append(f"{spec.label} accepts at most {spec.max_examples:,} training examples "
                       f"[{spec.sources.get('max_examples', '')}]")
    if spec.max_training_tokens and tokens_per_example:
        by_tokens = spec.max_training_tokens // max(1, tokens_per_example)
        if size > by_tokens:
            size = by_tokens
            reasons.append(f"{spec.max_training_tokens:,} training tokens at ~{tokens_per_example:,} "
                           f"tokens per example allow {by_tokens:,} examples")
    if spec.min_examples and size < spec.min_examples:
        warnings.append(f"{spec.label} needs at least {spec.min_examples} examples; {size} will "
                        "be rejected: raise dataset_size or add input documents.")
    elif spec.recommended_examples and size < spec.recommended_examples:
        warnings.append(f"{size} examples is below the ~{spec.recommended_examples} the provider "
                        "recommends to start with.")
    capped = size < max(0, desired)
    message = (f"Dataset size capped from {desired:,} to {size:,}: " + "; ".join(reasons) + "."
               if capped else f"Dataset size {size:,} is within {spec.label}'s limits.")
    return SizeDecision(desired=desired, size=size, capped=capped, message=message, warnings=warnings)
