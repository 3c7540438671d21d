"""The dataset card (README.md with YAML front matter) of an `hf` export, as the Hub reads it.

Front-matter keys follow the Hub's dataset-card spec (huggingface/hub-docs datasetcard.md): license,
language, task_categories, size_categories, tags (with `synthetic` when any sample was written by an
LLM), pretty_name and `configs` (which Parquet files make which split). The body says how the data
was made: mode, generator (agent) model, target, counts, the configuration used (secrets removed)
and the figures of `figures()`.

To show more figures (e.g. quality numbers from the stats JSON), add rows in `figures()`: each row is
(label, value) read from the stats dict that `export.stats.dataset_stats` returns.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import yaml

from src.masking import mask_url, scrub_secrets
from src.models import Example
from src.quality.language import detect

LANGUAGE_SAMPLE = 200  # answers looked at to name the card's languages
LANGUAGE_MIN_SHARE = 0.1
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                   (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]


def size_category(n: int) -> str:
    """The Hub's size_categories value for n rows."""
    return next((label for limit, label in SIZE_CATEGORIES if n < limit), "10M<n<100M")


def languages(examples: list[Example]) -> list[str]:
    """ISO 639-1 codes of the answers' languages (each at least 10% of a sample of them)."""
    step = max(1, len(examples) // LANGUAGE_SAMPLE)
    found = Counter(detect(ex.answer) for ex in examples[::step])
    found.pop("und", None)
    total = sum(found.values())
    return [code for code, n in found.most_common() if total and n / total >= LANGUAGE_MIN_SHARE]


def front_matter(dataset: dict, examples: list[Example], splits: list[str],
                 license_id: str) -> dict[str, Any]:
    """The YAML header of the card."""
    origins = {ex.origin for ex in examples}
    tags = ["fine-tuning", *(["synthetic"] if "synthetic" in origins else []),
            *(["extracted"] if "extracted" in origins else [])]
    codes = languages(examples)
    return {
        "license": license_id or "unknown",
        **({"language": codes} if codes else {}),
        "task_categories": ["question-answering", "text-generation"],
        "size_categories": [size_category(len(examples))],
        "tags": tags,
        "pretty_name": dataset["name"],
        "configs": [{"config_name": "default", "default": True, "data_files": [
            {"split": split, "path": f"data/{split}-*.parquet"} for split in splits]}],
    }


def used_config(dataset: dict) -> dict[str, Any]:
    """The stored configuration without secrets or credentials in base URLs."""
    try:
        config = json.loads(dataset.get("config") or "{}")
    except json.JSONDecodeError:
        return {}
    config = scrub_secrets(config) if isinstance(config, dict) else {}
    urls = (config.get("system") or {}).get("base_urls") or {}
    for key, url in list(urls.items()):
        urls[key] = mask_url(str(url))
    config.pop("input", None)  # local paths say nothing to a reader of the card
    return config


def figures(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the card's "Figures" table, read from the stats JSON.

    Add rows here for more figures (quality, coverage, ...); missing keys are skipped.
    """
    counts, tokens = stats.get("counts", {}), stats.get("tokens", {})
    rows = [("samples", counts.get("accepted")), ("train", counts.get("train")),
            ("validation", counts.get("validation")), ("rejected while building",
                                                        counts.get("rejected")),
            ("tokens (target tokenizer; an estimate where none is offline)", tokens.get("total")),
            ("tokens per sample, median", tokens.get("median")),
            ("source files", len(stats.get("by_source", {})) or None)]
    means = (stats.get("quality") or {}).get("accepted_means") or {}
    rows += [(f"mean {name} score", value) for name, value in sorted(means.items())]
    rows += quality_rows(stats.get("quality") or {})
    cost = (stats.get("cost") or {}).get("cost_usd")
    rows += [("generation cost (USD)", cost)] if cost else []
    return [(label, f"{value:,}" if isinstance(value, int) else str(value))
            for label, value in rows if value is not None]


def quality_rows(quality: dict[str, Any]) -> list[tuple[str, Any]]:
    """The report's headline quality figures (export/figures.py), as card rows."""
    faith, judge = quality.get("faithfulness") or {}, quality.get("judge") or {}
    div = quality.get("diversity") or {}
    rows: list[tuple[str, Any]] = [
        ("mean faithfulness (share of claims the source supports)", faith.get("mean")),
        ("samples with every claim supported", faith.get("fully_supported_share")),
        ("samples judged by an LLM against their source", judge.get("judged") or None),
        ("LLM judge agrees with the offline checks", judge.get("agreement")),
        ("rejected as overlapping evaluation sets",
         (quality.get("contamination") or {}).get("contaminated")),
        ("question self-similarity (0 = varied)", (div.get("questions") or {}).get("self_similarity")),
        ("diversity or coverage flags", len(div["flags"]) if "flags" in div else None)]
    return rows


def _body(dataset: dict, stats: dict[str, Any], config: dict[str, Any]) -> str:
    system = config.get("system") or {}
    agent = f"{system.get('agentic_llm', '?')}/{system.get('agentic_model', '?')}"
    mode = dataset.get("mode", "?")
    made = ("extracted verbatim from the source documents (no LLM)" if mode == "identify"
            else f"written by the generator model `{agent}` from the source documents")
    table = "\n".join(f"| {label} | {value} |" for label, value in figures(stats))
    return f"""# {dataset['name']}

A fine-tuning dataset made with the Fine-Tuning Dataset Builder in **{mode}** mode: samples
{made}, scored for grounding in their source passage, deduplicated and split.
Target model when it was built: `{dataset.get('provider')}/{dataset.get('model')}`.

Each row holds `messages` (system, user and assistant turns). The prompt never contains the
answer: the source passage is not included.

```python
from datasets import load_dataset
ds = load_dataset("path/or/OWNER/NAME")
```

## Figures

| figure | value |
|---|---|
{table}

## Configuration used

```yaml
{yaml.safe_dump(config, sort_keys=False, allow_unicode=True).rstrip()}
```
"""


def dataset_card(dataset: dict, examples: list[Example], stats: dict[str, Any],
                 splits: list[str], license_id: str) -> str:
    """The whole README.md of an hf export."""
    header = yaml.safe_dump(front_matter(dataset, examples, splits, license_id), sort_keys=False,
                            allow_unicode=True)
    return f"---\n{header}---\n\n{_body(dataset, stats, used_config(dataset))}"
