"""Targets where fine-tuning is open today (checked 2026-12-05), each fact with its source tag.

Amazon Bedrock Nova, Gemini 3.x on Vertex AI, Together AI and Fireworks AI. Model ids are written
as each provider's job API takes them. Prices that no primary source confirmed stay None (or say
UNCONFIRMED in `price_note`); token limits printed as "131K" are read as the model's power-of-two
context (131,072) and "41K" as Qwen3's 40,960, "24K" conservatively as 24,000.
"""

from __future__ import annotations

from src.targets.spec import CHECKED, GB, ModelSpec, spec_row

SOURCES = {
    "N1": "docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html "
          "(roles, reserved keywords, 8-20,000 samples, 32k context; stored copy, checked 2026-12-05)",
    "N2": "aws-samples/amazon-bedrock-samples custom-models/bedrock-fine-tuning/nova/understanding/"
          "dataset_validation/nova_ft_dataset_validator.py @ 7a8cfea5 (checked 2026-12-05)",
    "N3": "docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html (Nova 2.0: no tools,"
          " validation set ignored, min 200, 2,000-10,000 recommended; checked 2026-12-05)",
    "N4": "docs.aws.amazon.com/nova/latest/userguide/customization.html (Bedrock base model ids)",
    "N5": "amazon.nova-2-lite-v1:0:256k: Nova 2 SFT recipes (model_type) and public Bedrock job "
          "scripts; the Bedrock page itself UNCONFIRMED (checked 2026-12-05)",
    "N6": "docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-mm.html (epochs 1-5, default 2)",
    "G3": "docs.cloud.google.com/gemini-enterprise-agent-platform/models/guides/gemini-3-5-flash "
          "(ids gemini-3.5-flash, gemini-3.1-flash-lite; checked 2026-12-05)",
    "G4": "cloud.google.com/vertex-ai/generative-ai/docs/models/tune-text-models-supervised "
          "(3.5 Flash / 3.5 Flash-Lite section of a localized copy; checked 2026-12-05)",
    "T4": "togethercomputer/skills skills/together-fine-tuning/references/supported-models.md @ "
          "8b83242 (SFT context printed as 131K/41K/24K) and data-formats.md (top-level weight); "
          "checked 2026-12-05",
    "T5": "docs.together.ai/docs/fine-tuning/pricing (per-token price by model size; the rates "
          "were not in the stored copy: UNCONFIRMED; checked 2026-12-05)",
    "F2": "docs.fireworks.ai/fine-tuning/fine-tuning-models (tunable list is dynamic: `firectl "
          "model get -a fireworks ID` shows Tunable; checked 2026-12-05)",
    "F3": "fireworks.ai/pricing, stored copy, undated (SFT $0.50/1M training tokens up to 16B, "
          "$3.00 16.1B-80B): UNCONFIRMED for today",
    "Q1": "Qwen3 model cards (max_position_embeddings 40,960); Fireworks' own training maximum "
          "per model is UNCONFIRMED (set per job with --max-context-length)",
}

_NOVA = dict(
    provider="amazon", service="Amazon Bedrock model customization (Nova, parameter-efficient SFT)",
    tokenizer="estimate_nova", max_tokens_per_example=32_000, over_limit="reject", min_examples=8,
    recommended_examples=100, max_examples=20_000, max_validation_examples=None,
    max_file_bytes=None, max_training_tokens=None, training_price_per_1m=None,
    price_note="Bedrock customization price per token not read from AWS: UNCONFIRMED", as_of=CHECKED,
    epochs=(1, 5, 2),
    note="data goes to S3; Nova names file paths with letters, digits, _ - / . only [N1]",
    sources={"max_tokens_per_example": "N1", "min_examples": "N1/N2", "max_examples": "N1/N2",
             "recommended_examples": "N1", "model": "N4", "epochs": "N6",
             "tokenizer": "no offline Nova tokenizer: estimate"})
_VERTEX_3 = dict(
    provider="google", service="Vertex AI supervised tuning (Gemini Enterprise Agent Platform)",
    tokenizer="estimate_gemini", max_tokens_per_example=131_072, over_limit="reject",
    min_examples=None, recommended_examples=100, max_examples=10_000_000,
    max_validation_examples=5_000, max_file_bytes=1 * GB, max_training_tokens=None,
    training_price_per_1m=None, as_of=CHECKED,
    price_note="billed tokens = dataset tokens x epochs; 3.x tuning price UNCONFIRMED [G1]",
    note="set the thinking budget to its lowest value when tuning and serving [G1]",
    sources={"max_tokens_per_example": "G1/G4", "max_examples": "G1", "max_validation_examples": "G1",
             "max_file_bytes": "G1", "recommended_examples": "G2", "model": "G3",
             "tokenizer": "GT"})
_TOGETHER = dict(
    provider="together", service="Together AI fine-tuning (LoRA or full)", over_limit="truncate",
    min_examples=1, recommended_examples=100, max_examples=None, max_validation_examples=None,
    max_file_bytes=50_100_000_000, max_training_tokens=None, training_price_per_1m=None,
    price_note="per-token rate by model size on together.ai/pricing: UNCONFIRMED; the API's "
               "estimate-price endpoint quotes a job [T5]",
    open_weight=True, as_of=CHECKED,
    sources={"max_tokens_per_example": "T4", "min_examples": "T2", "max_file_bytes": "T2",
             "model": "T4", "training_price_per_1m": "T5"})
_FIREWORKS = dict(
    provider="fireworks", service="Fireworks AI supervised fine-tuning (LoRA)", over_limit="truncate",
    min_examples=3, recommended_examples=100, max_examples=3_000_000, max_validation_examples=None,
    max_file_bytes=None, max_training_tokens=None, open_weight=True, as_of=CHECKED,
    note="the tunable list changes: check `firectl model get -a fireworks ID` shows Tunable [F2]",
    sources={"max_tokens_per_example": "Q1", "min_examples": "F1", "max_examples": "F1",
             "model": "F2", "training_price_per_1m": "F3"})

ROWS: list[ModelSpec] = [
    spec_row(_NOVA, model="amazon.nova-micro-v1:0:128k", label="Amazon Nova Micro",
             aliases=("amazon.nova-micro-v1:0", "nova-micro")),
    spec_row(_NOVA, model="amazon.nova-lite-v1:0:300k", label="Amazon Nova Lite",
             aliases=("amazon.nova-lite-v1:0", "nova-lite")),
    spec_row(_NOVA, model="amazon.nova-pro-v1:0:300k", label="Amazon Nova Pro",
             aliases=("amazon.nova-pro-v1:0", "nova-pro")),
    spec_row(_NOVA, model="amazon.nova-2-lite-v1:0:256k", label="Amazon Nova 2 Lite",
             aliases=("amazon.nova-2-lite-v1:0", "nova-2-lite"), min_examples=200,
             recommended_examples=2_000, max_examples=None, validation_set=False, epochs=None,
             note="Nova 2.0 SFT: no tools, a validation file is ignored; max samples and token "
                  "limit UNCONFIRMED (Nova 1's 32k applied) [N3]",
             sources={"min_examples": "N3", "recommended_examples": "N3", "model": "N5",
                      "max_tokens_per_example": "N1 (Nova 1 limit; Nova 2 UNCONFIRMED)"}),
    spec_row(_VERTEX_3, model="gemini-3.5-flash", label="Gemini 3.5 Flash"),
    spec_row(_VERTEX_3, model="gemini-3.5-flash-lite", label="Gemini 3.5 Flash-Lite",
             note="limits from a localized copy grouping it with 3.5 Flash; adapter sizes and "
                  "regions UNCONFIRMED [G4]"),
    spec_row(_TOGETHER, model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
             label="Llama 3.1 8B Instruct (Together)", tokenizer="llama3",
             max_tokens_per_example=131_072,
             note="-Reference models serve as serverless LoRA, not dedicated endpoints [T3]"),
    spec_row(_TOGETHER, model="meta-llama/Llama-3.3-70B-Instruct-Reference",
             label="Llama 3.3 70B Instruct (Together)", tokenizer="llama3",
             max_tokens_per_example=24_000),
    spec_row(_TOGETHER, model="meta-llama/Llama-3.2-3B-Instruct", label="Llama 3.2 3B Instruct "
             "(Together)", tokenizer="llama3", max_tokens_per_example=131_072),
    spec_row(_TOGETHER, model="Qwen/Qwen3-8B", label="Qwen3 8B (Together)", tokenizer="qwen3",
             max_tokens_per_example=40_960),
    spec_row(_TOGETHER, model="Qwen/Qwen3-32B", label="Qwen3 32B (Together)", tokenizer="qwen3",
             max_tokens_per_example=40_960),
    spec_row(_FIREWORKS, model="accounts/fireworks/models/qwen3-8b", label="Qwen3 8B (Fireworks)",
             tokenizer="qwen3", max_tokens_per_example=40_960, training_price_per_1m=0.5,
             price_note="$0.50/1M up to 16B: undated stored pricing page, UNCONFIRMED [F3]"),
    spec_row(_FIREWORKS, model="accounts/fireworks/models/qwen3-32b", label="Qwen3 32B (Fireworks)",
             tokenizer="qwen3", max_tokens_per_example=40_960, training_price_per_1m=3.0,
             price_note="$3.00/1M for 16.1B-80B: undated stored pricing page, UNCONFIRMED [F3]"),
    spec_row(_FIREWORKS, model="accounts/fireworks/models/llama-v3p1-8b-instruct",
             label="Llama 3.1 8B Instruct (Fireworks)", tokenizer="llama3",
             max_tokens_per_example=131_072, training_price_per_1m=0.5,
             price_note="$0.50/1M up to 16B: undated stored pricing page, UNCONFIRMED [F3]",
             note="a public 2026 report says this id is past its deprecation date on Fireworks "
                  "(UNCONFIRMED): check Tunable before a job [F2]",
             sources={"max_tokens_per_example": "L1"}),
]

DEFAULT_MODEL = {"amazon": "amazon.nova-lite-v1:0:300k",
                 "together": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
                 "fireworks": "accounts/fireworks/models/qwen3-8b"}
