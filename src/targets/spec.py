"""The shape of one catalog row (a fine-tunable target model) and the helper that fills rows."""

from __future__ import annotations

from dataclasses import dataclass, field

AS_OF = "2026-11-21"  # date of the reference the first rows were taken from
CHECKED = "2026-12-05"  # date the open targets (Nova, Gemini 3.x, Together, Fireworks) were checked
GB = 1_000_000_000
MB = 1_000_000


@dataclass(frozen=True)
class ModelSpec:
    """One fine-tunable target model: limits, tokenizer, price and lifecycle, with sources."""

    provider: str
    model: str  # canonical id (snapshot name where one exists)
    label: str
    service: str
    tokenizer: str  # o200k_base | cl100k_base | llama3 | mistral_v1 | mistral_v3 | tekken | estimate_*
    max_tokens_per_example: int
    over_limit: str  # "truncate" (provider cuts the example) | "reject" (job fails)
    min_examples: int | None
    recommended_examples: int | None
    max_examples: int | None
    max_validation_examples: int | None
    max_file_bytes: int | None
    max_training_tokens: int | None  # None: no published cap
    training_price_per_1m: float | None  # USD per 1M training tokens; None: not published
    price_note: str
    aliases: tuple[str, ...] = ()
    open_weight: bool = False
    new_jobs_until: str | None = None  # last day new fine-tuning jobs are accepted
    shutdown: str | None = None  # the base model (and its fine-tunes) stop serving
    deprecated: str = ""  # provider marked the fine-tuning offer deprecated (text says how)
    alternatives: tuple[str, ...] = ()  # catalog keys "provider:model" of open targets
    sources: dict[str, str] = field(default_factory=dict)  # field name -> source tags
    as_of: str = AS_OF
    job_model_id: str = ""  # the base-model id the provider's fine-tuning job API takes ("" = model)
    validation_set: bool = True  # False: the service ignores a validation file
    epochs: tuple[int, int, int] | None = None  # (min, max, default) where published
    note: str = ""  # caveats a user or a trainer should know

    @property
    def job_model(self) -> str:
        """The id to pass to the provider's job API as the base model."""
        return self.job_model_id or self.model

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.model}"


def spec_row(base: dict, **fields: object) -> ModelSpec:
    """A row from shared defaults `base` plus its own fields (sources merged)."""
    merged = {**base, **fields}
    merged["sources"] = {**base.get("sources", {}), **fields.get("sources", {})}  # type: ignore[dict-item]
    return ModelSpec(**merged)
