"""config.yaml → typed settings, with every problem reported by its key path.

The file is read once with `yaml.safe_load` into the dataclasses below. Each field may carry
`choices`, `min` and `max` in its metadata; `_build` checks types and ranges, reports unknown keys and
collects every problem before raising one `ConfigError`. Secrets never live here: keys come from the
environment (`.env`), see `api_key()`.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from src.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_CONFIG_BYTES = 1_000_000
MAX_YAML_ALIASES = 50  # a few anchors are fine; thousands are a "billion laughs" bomb

# the dataset is FOR (amazon = Bedrock Nova; together, fireworks = hosted tuning of open models)
TARGET_PROVIDERS = ("openai", "anthropic", "google", "mistral", "llama", "amazon", "together",
                    "fireworks")
AGENT_PROVIDERS = ("openai", "anthropic", "google", "mistral", "llama")  # the LLM that writes samples
MODES = ("create", "identify", "hybrid", "free")
SPLIT_STRATEGIES = ("random", "weighted")
SPLIT_WEIGHT_BY = ("source", "keywords")
OPEN_FORMATS = ("mistral_instruct", "alpaca", "sharegpt")  # for open-source trainers
RECORD_FORMATS = (*TARGET_PROVIDERS, *OPEN_FORMATS)  # a target's native format bears its name
# folders for open trainers and the Hugging Face Hub (several files each, written side by side)
BUNDLE_FORMATS = ("trl", "llamafactory", "axolotl", "parquet", "hf")
EXPORT_FORMATS = ("native", *RECORD_FORMATS, *BUNDLE_FORMATS)
ENGINES = ("local", "ray")
KEY_ENV = {p: f"{p.upper()}_API_KEY" for p in AGENT_PROVIDERS}
BASE_URL_ENV = {p: f"{p.upper()}_BASE_URL" for p in AGENT_PROVIDERS}
AGENT_PRICE_KEYS = ("input_per_million", "output_per_million")


def _opt(default: Any = None, *, choices: tuple | None = None, min: float | None = None,
         max: float | None = None, factory: Any = None) -> Any:
    meta = {"choices": choices, "min": min, "max": max}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SplitConfig:
    enabled: bool = True
    ratio: float = _opt(0.9, min=0.01, max=0.99)
    strategy: str = _opt("weighted", choices=SPLIT_STRATEGIES)
    weight_by: str = _opt("source", choices=SPLIT_WEIGHT_BY)
    seed: int = 42


@dataclass
class InputConfig:
    directory: str = "input_files"
    max_file_mb: float = _opt(200.0, min=0.001, max=100_000)
    max_zip_ratio: float = _opt(200.0, min=2, max=100_000)
    include_hidden_sheets: bool = False
    follow_symlinks: bool = False  # read links that point outside the input folder


@dataclass
class ChunkingConfig:
    chunk_tokens: int = _opt(900, min=50, max=100_000)
    overlap_tokens: int = _opt(0, min=0, max=10_000)
    min_chunk_tokens: int = _opt(40, min=1, max=10_000)


@dataclass
class CreateConfig:
    temperature: float = _opt(0.7, min=0.0, max=2.0)
    variety: str = _opt("high", choices=("low", "medium", "high"))
    questions_per_chunk: int = _opt(12, min=1, max=40)  # at most, per request; the passage decides
    turns: int = _opt(1, min=1, max=10)
    personas: list[str] = _opt(factory=lambda: [
        "curious beginner", "busy professional", "careful expert", "student preparing an exam"])
    question_types: list[str] = _opt(factory=lambda: [
        "factual", "how-to", "comparison", "why", "numbers and dates"])


@dataclass
class IdentifyConfig:
    min_turns: int = _opt(2, min=2, max=100)
    include_context: bool = True
    use_llm: bool = False


@dataclass
class HybridConfig:
    generation_ratio: float = _opt(0.5, min=0.0, max=1.0)


@dataclass
class FreeConfig:
    use_prompt_file: bool = True
    prompt_file: str = "prompts/free_mode/prompt.txt"


@dataclass
class AgentConfig:
    create: CreateConfig = field(default_factory=CreateConfig)
    identify: IdentifyConfig = field(default_factory=IdentifyConfig)
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    free: FreeConfig = field(default_factory=FreeConfig)


@dataclass
class Thresholds:
    overall: float = _opt(0.7, min=0.0, max=1.0)
    extractive: float = _opt(0.6, min=0.0, max=1.0)
    detail: float = _opt(0.6, min=0.0, max=1.0)
    domain: float = _opt(0.7, min=0.0, max=1.0)
    faithfulness: float = _opt(0.5, min=0.0, max=1.0)  # share of the answer's claims the source supports
    judge: float = _opt(0.75, min=0.0, max=1.0)  # share of the LLM judge's rubric answered yes


@dataclass
class Weights:
    extractive: float = _opt(0.4, min=0.0, max=1.0)
    detail: float = _opt(0.3, min=0.0, max=1.0)
    domain: float = _opt(0.3, min=0.0, max=1.0)


@dataclass
class DomainProfile:
    name: str = ""
    keywords: dict[str, float] = field(default_factory=dict)
    entities: list[str] = field(default_factory=list)


@dataclass
class QualityConfig:
    enabled: bool = True
    thresholds: Thresholds = field(default_factory=Thresholds)
    weights: Weights = field(default_factory=Weights)
    domain: DomainProfile = field(default_factory=DomainProfile)
    near_duplicate_threshold: float = _opt(0.8, min=0.3, max=1.0)
    target_language: str = ""
    llm_judge: bool = False
    filter_extracted: bool = False  # also reject verbatim (identify) samples below the thresholds
    decontaminate: list[str] = field(default_factory=list)  # evaluation sets no sample may repeat


@dataclass
class PrivacyConfig:
    redact_pii: bool = False


@dataclass
class OutputConfig:
    format: str = _opt("native", choices=EXPORT_FORMATS)
    include_csv: bool = True
    include_stats: bool = True
    include_context: bool = False  # alpaca/mistral_instruct `input`: the source passage, answer cut out
    control_tokens: bool = False  # mistral_instruct: literal <s>[INST] ... [/INST] in `instruction`
    license: str = "unknown"  # dataset card (hf export, push): a Hub licence id such as cc-by-4.0
    include_report: bool = True  # <name>_report.html with charts (export/report.py)
    system_prompt: str = ""  # written into every new sample that has none of its own


@dataclass
class RateLimit:
    requests_per_minute: int = _opt(500, min=1, max=1_000_000)
    tokens_per_minute: int = _opt(200_000, min=1, max=1_000_000_000)


@dataclass
class SystemConfig:
    agentic_llm: str = _opt("openai", choices=AGENT_PROVIDERS)
    agentic_model: str = "gpt-4o-mini"
    max_retries: int = _opt(3, min=0, max=20)
    timeout: float = _opt(60.0, min=1, max=3600)
    concurrency: int = _opt(16, min=1, max=512)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    base_urls: dict[str, str] = field(default_factory=dict)
    backups_keep: int = _opt(5, min=0, max=1000)
    workers: int = _opt(0, min=0, max=1024)  # processes for reading and scoring; 0: one per core
    engine: str = _opt("local", choices=ENGINES)  # ray: spread the run over a Ray cluster
    # USD per 1M tokens of the agent model: {input_per_million: X, output_per_million: Y}; wins
    # over the catalog price and applies to local servers too (empty: catalog, else local = free)
    agent_price: dict[str, float] = field(default_factory=dict)
    # batch: send the agent's requests through the provider's Batch API (half price, within 24 h;
    # `generate --batch`); batch_poll_seconds: how often --wait asks whether a batch has ended
    batch: bool = False
    batch_poll_seconds: float = _opt(60.0, min=0.01, max=3600)


@dataclass
class AmazonTrainConfig:
    role_arn: str = ""  # IAM role Bedrock assumes to read the data and write the model
    s3_bucket: str = ""  # "bucket" or "s3://bucket/prefix": where the JSONL is uploaded
    region: str = "us-east-1"  # Nova customization runs in us-east-1


@dataclass
class GoogleTrainConfig:
    project: str = ""  # Google Cloud project id (else GOOGLE_CLOUD_PROJECT)
    location: str = "us-central1"
    gcs_bucket: str = ""  # "bucket" or "gs://bucket/prefix": where the JSONL is uploaded


@dataclass
class FireworksTrainConfig:
    account_id: str = ""  # else FIREWORKS_ACCOUNT_ID


@dataclass
class TrainConfig:
    """`train`: where each provider's files go (never credentials: those come from .env)."""

    poll_seconds: float = _opt(30.0, min=0.01, max=3600)  # --wait and the menu follow at this pace
    amazon: AmazonTrainConfig = field(default_factory=AmazonTrainConfig)
    google: GoogleTrainConfig = field(default_factory=GoogleTrainConfig)
    fireworks: FireworksTrainConfig = field(default_factory=FireworksTrainConfig)


@dataclass
class Config:
    provider: str = _opt("llama", choices=TARGET_PROVIDERS)
    model: str = "llama-3.1-8b"
    mode: str = _opt("identify", choices=MODES)
    dataset_size: int = _opt(100, min=1, max=10_000_000)
    output_name: str = "my_dataset"
    budget_usd: float = _opt(5.0, min=0.0, max=1_000_000)
    split: SplitConfig = field(default_factory=SplitConfig)
    input: InputConfig = field(default_factory=InputConfig)
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    system: SystemConfig = field(default_factory=SystemConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    source_path: str = field(default="", metadata={"internal": True})

    def to_dict(self) -> dict:
        """The configuration as plain data (no secrets live here), for storing with a dataset."""
        data = dataclasses.asdict(self)
        data.pop("source_path", None)
        return data


# ---------------------------------------------------------------- loading and checking

def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_scalar(path: str, hint: Any, value: Any, meta: dict, errors: list[str]) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            errors.append(f"{path} must be true or false, got {_describe(value)}")
        return value
    if hint in (int, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if hint is int and ok and float(value) != int(value):
            ok = False
        if not ok:
            errors.append(f"{path} must be a number{' (whole)' if hint is int else ''}, "
                          f"got {_describe(value)}")
            return value
        value = hint(value)
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            errors.append(f"{path} must be between {lo:g} and {hi:g}, got {value:g}")
        return value
    if hint is str:
        if value is None:
            value = ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            errors.append(f"{path} must be text, got {_describe(value)}")
            return value
        value = str(value)
        choices = meta.get("choices")
        if choices and value not in choices:
            errors.append(f"{path} must be one of {', '.join(choices)}; got {_describe(value)}")
        return value
    return value


def _check_value(path: str, hint: Any, value: Any, meta: dict, errors: list[str]) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, path, errors)
    origin = typing.get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            errors.append(f"{path} must be a list, got {_describe(value)}")
            return []
        (item_hint,) = typing.get_args(hint)
        return [_check_scalar(f"{path}[{i}]", item_hint, v, {}, errors) for i, v in enumerate(value)]
    if origin is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            errors.append(f"{path} must be a mapping, got {_describe(value)}")
            return {}
        _, val_hint = typing.get_args(hint)
        return {str(k): _check_scalar(f"{path}.{k}", val_hint, v, {}, errors)
                for k, v in value.items()}
    return _check_scalar(path, hint, value, meta, errors)


def _build(cls: type, data: Any, path: str, errors: list[str]) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        errors.append(f"{path or 'config.yaml'} must be a mapping of keys to values, "
                      f"got {_describe(data)}")
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            where = f"{path}.{key}" if path else str(key)
            errors.append(f"unknown key {where} (allowed here: {', '.join(fields)})")
    values = {}
    for name, f in fields.items():
        if name in data:
            sub = f"{path}.{name}" if path else name
            values[name] = _check_value(sub, hints[name], data[name], dict(f.metadata), errors)
    return cls(**values)


def _count_aliases(text: str) -> int:
    try:
        return sum(isinstance(t, yaml.AliasToken) for t in yaml.scan(text))
    except yaml.YAMLError:
        return 0  # the parser will report it with a line number


def parse_config(text: str, source: str = "config.yaml") -> Config:
    """Parse and check config text; raises ConfigError naming every bad key."""
    if _count_aliases(text) > MAX_YAML_ALIASES:
        raise ConfigError(f"{source}: refused: more than {MAX_YAML_ALIASES} YAML aliases "
                          "(this looks like an alias bomb). Write the values out instead.")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{source}: {problem}{where}. Fix the YAML syntax "
                          "(indentation, quotes, colons) and run again.") from None
    errors: list[str] = []
    config = _build(Config, data, "", errors)
    _check_cross_fields(config, errors)
    if errors:
        raise ConfigError(f"{source} has {len(errors)} problem(s):\n  - " + "\n  - ".join(errors))
    config.source_path = source
    return config


def _check_cross_fields(config: Config, errors: list[str]) -> None:
    for name in config.system.base_urls:
        if name not in AGENT_PROVIDERS:
            errors.append(f"system.base_urls.{name} is not a provider "
                          f"(one of {', '.join(AGENT_PROVIDERS)})")
    price = config.system.agent_price
    if price and set(price) != set(AGENT_PRICE_KEYS):
        errors.append("system.agent_price needs exactly "
                      + " and ".join(AGENT_PRICE_KEYS) + f" (USD per 1M tokens), got {_describe(price)}")
    elif any(isinstance(v, (int, float)) and v < 0 for v in price.values()):
        errors.append(f"system.agent_price values must be 0 or more, got {_describe(price)}")
    weights = config.quality.weights
    if weights.extractive + weights.detail + weights.domain <= 0:
        errors.append("quality.weights must not all be 0")
    if config.system.batch and config.system.engine == "ray":
        errors.append("system.batch and system.engine: ray cannot be combined: batch rounds run "
                      "on this machine (the provider does the work); use engine: local")
    if config.privacy.redact_pii and config.agent.identify.use_llm:
        errors.append("privacy.redact_pii and agent.identify.use_llm cannot both be on: identify's "
                      "LLM stage must see your text verbatim to quote it; turn one of them off")


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read config.yaml (or `path`), then apply dotted-key overrides such as {"split.ratio": 0.8}."""
    path = Path(path) if path else PROJECT_ROOT / "config.yaml"
    if path.exists():
        text = _read_config_text(path)
    elif path.name == "config.yaml" and path.parent == PROJECT_ROOT:
        text = ""  # no config.yaml at all: defaults
    else:
        raise ConfigError(f"{path}: no such config file. Pass an existing file with --config.")
    config = parse_config(text, str(path))
    if overrides:
        config = apply_overrides(config, overrides)
    return config


def _read_config_text(path: Path) -> str:
    """The text of a config file; a FIFO or device (which would block or never end) is refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{path}: not a regular file (a pipe, socket or device): pass a "
                                  "config file saved on disk with --config.")
            os.set_blocking(fd, True)
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1000} kB; "
                              "this is not a config file.")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__}). "
                          "Check the file exists, is readable and is UTF-8 text.") from None


def worker_count(config: Config) -> int:
    """How many processes read and score: system.workers, or one per core when it is 0."""
    return config.system.workers or os.cpu_count() or 1


def apply_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """Return a new Config with dotted keys replaced, checked like the file itself."""
    data = config.to_dict()
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    errors: list[str] = []
    result = _build(Config, data, "", errors)
    _check_cross_fields(result, errors)
    if errors:
        raise ConfigError("Invalid setting: " + "; ".join(errors))
    result.source_path = config.source_path
    return result


# ---------------------------------------------------------------- environment

def load_env() -> None:
    """Load .env from the project root (never overriding variables already set).

    DATASET_BUILDER_NO_DOTENV=1 skips it (the tests set this so a developer's keys stay out).
    """
    from dotenv import load_dotenv  # only main() loads .env; config.py itself stays import-light

    if os.environ.get("DATASET_BUILDER_NO_DOTENV"):
        return
    load_dotenv(PROJECT_ROOT / ".env", override=False)


def project_path(text: str | Path) -> Path:
    """A path as the user wrote it: ~ expanded, relative paths starting at the project folder."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def home() -> Path:
    """Where memory/ and output_datasets/ live: DATASET_BUILDER_HOME or the project root."""
    return Path(os.environ.get("DATASET_BUILDER_HOME") or PROJECT_ROOT)


def db_path() -> Path:
    return home() / "memory" / "dataset_builder.db"


def output_root() -> Path:
    return home() / "output_datasets"


def api_key(provider: str) -> str | None:
    """The provider's API key from the environment, or None. Never stored anywhere."""
    return os.environ.get(KEY_ENV[provider]) or None


def base_url(provider: str, config: Config | None = None) -> str | None:
    """Base URL for a provider: environment first, then system.base_urls, else the SDK default."""
    env = os.environ.get(BASE_URL_ENV[provider])
    if env:
        return env
    if config is not None:
        return config.system.base_urls.get(provider) or None
    return None


def agent_choice(config: Config) -> tuple[str, str]:
    """(provider, model) for the agent LLM: AGENT_PROVIDER/AGENT_MODEL override config.

    With no AGENT_PROVIDER, a configured provider that has neither a key nor a base URL gives way
    to llama when a llama base URL is set (the README's local-server path: LLAMA_BASE_URL alone).
    The model is then "" when the configured one names another provider's model: the caller
    (providers.llm_client.require_key) says which flag to give.
    """
    provider = os.environ.get("AGENT_PROVIDER") or config.system.agentic_llm
    model = os.environ.get("AGENT_MODEL") or config.system.agentic_model
    if provider not in AGENT_PROVIDERS:
        raise ConfigError(f"AGENT_PROVIDER must be one of {', '.join(AGENT_PROVIDERS)}, "
                          f"got {provider!r}")
    if not os.environ.get("AGENT_PROVIDER") and llama_fallback(provider, config):
        foreign = model.lower().startswith(OTHER_PROVIDER_MODELS) and \
            not os.environ.get("AGENT_MODEL")
        return "llama", "" if foreign else model
    return provider, model


# Model names that belong to a hosted provider, never to a local OpenAI-compatible server.
OTHER_PROVIDER_MODELS = ("gpt-", "chatgpt", "o1", "o3", "o4", "claude", "gemini", "open-mistral",
                         "mistral-", "ministral", "codestral", "pixtral")


def llama_fallback(provider: str, config: Config) -> bool:
    """True when `provider` has no key and no base URL but a llama base URL is set."""
    return (provider != "llama" and not api_key(provider) and not base_url(provider, config)
            and bool(base_url("llama", config)))
