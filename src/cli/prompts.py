"""Questions asked in the menu. Each helper re-asks until the answer is valid; never crashes.

Ctrl-C or end of input raises `Cancelled`, which the menu treats as "go back".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from src.cli import console
from src.config import PROJECT_ROOT, project_path
from src.errors import ConfigError, UsageError
from src.targets import catalog
from src.targets.target import TARGETS


class Cancelled(Exception):
    """The user pressed Ctrl-C or closed standard input."""


def _read(prompt: str) -> str:
    try:
        return input(prompt)
    except (KeyboardInterrupt, EOFError):
        print()
        raise Cancelled from None


def ask_choice(title: str, options: Sequence[str], default: int | None = None) -> int:
    """Show numbered options; return the 0-based index chosen."""
    console.heading(title)
    for i, option in enumerate(options, start=1):
        console.info(f"  {i}. {option}")
    hint = f" [{default + 1}]" if default is not None else ""
    while True:
        answer = _read(f"Choose 1-{len(options)}{hint}: ").strip()
        if not answer and default is not None:
            return default
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return int(answer) - 1
        console.error(f"enter a number from 1 to {len(options)}")


def ask_int(question: str, default: int | None = None, lo: int = 1,
            hi: int = 10_000_000) -> int:
    """A whole number from lo to hi; commas and underscores are ignored."""
    hint = f" [{default}]" if default is not None else ""
    while True:
        answer = _read(f"{question}{hint}: ").strip().replace(",", "").replace("_", "")
        if not answer and default is not None:
            return default
        if answer.lstrip("-").isdigit() and lo <= int(answer) <= hi:
            return int(answer)
        console.error(f"enter a whole number from {lo} to {hi}")


def ask_float(question: str, default: float | None = None, lo: float = 0.0,
              hi: float = 1e12) -> float:
    """A number from lo to hi."""
    hint = f" [{default:g}]" if default is not None else ""
    while True:
        answer = _read(f"{question}{hint}: ").strip()
        if not answer and default is not None:
            return default
        try:
            value = float(answer)
        except ValueError:
            value = float("nan")
        if lo <= value <= hi:
            return value
        console.error(f"enter a number from {lo:g} to {hi:g}")


def ask_text(question: str, default: str | None = None, allow_empty: bool = False) -> str:
    """Free text; Enter gives the default (or an empty answer when allow_empty)."""
    hint = f" [{default}]" if default else ""
    while True:
        answer = _read(f"{question}{hint}: ").strip()
        if not answer and default is not None:
            return default
        if answer or allow_empty:
            return answer
        console.error("an answer is needed (Ctrl-C goes back)")


def confirm(question: str, default: bool = True) -> bool:
    """Yes or no; Enter gives the default."""
    hint = "[Y/n]" if default else "[y/N]"
    while True:
        answer = _read(f"{question} {hint}: ").strip().lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        console.error("answer y or n")


def ask_multiline(question: str) -> str:
    """Read lines until an empty line; returns the joined text."""
    console.info(f"{question} (finish with an empty line)")
    lines: list[str] = []
    while True:
        line = _read("> ")
        if not line.strip():
            return "\n".join(lines).strip()
        lines.append(line)


# ---------------------------------------------------------------- checked answers

T = TypeVar("T")
# The answer-checking errors a `check` may raise: they mean "ask again", never "crash".
RETRY_ERRORS = (ValueError, ConfigError, UsageError)


def ask_until(question: str, check: Callable[[str], T], default: str | None = None) -> T:
    """Ask until `check(answer)` returns without raising; its error message is shown each time."""
    while True:
        answer = ask_text(question, default=default)
        try:
            return check(answer)
        except RETRY_ERRORS as exc:
            console.error(str(exc) or "that answer cannot be used")


def ask_option(title: str, options: Sequence[tuple[str, str]], current: str | None = None) -> str:
    """Numbered (key, description) options; returns the key. Enter keeps `current`."""
    keys = [key for key, _ in options]
    labels = [f"{key:<10} {text}" if text else key for key, text in options]
    default = keys.index(current) if current in keys else None
    return keys[ask_choice(title, labels, default=default)]


def parse_ratio(text: str) -> float:
    """'0.85', '85', '85%' or '85/15' → 0.85; raises ValueError outside 1–99 %."""
    problem = "enter the train share from 1% to 99%: 0.85, 85, 85% or 85/15"
    text = text.strip().replace(" ", "").rstrip("%")
    try:
        if "/" in text:
            left, right = (float(part) for part in text.split("/", 1))
            value = left / (left + right) if left >= 0 and right >= 0 and left + right else -1.0
        else:
            value = float(text)
            value = value / 100 if value >= 1 else value
    except ValueError:
        raise ValueError(problem) from None
    if not 0.01 <= value <= 0.99:
        raise ValueError(problem)
    return round(value, 4)


def ask_ratio(question: str, default: float | None = None) -> float:
    """A share such as the train ratio, re-asked until it lies in 1–99 %."""
    hint = f"{default:g}" if default is not None else None
    return ask_until(question, parse_ratio, default=hint)


def ask_size(question: str, default: int | None = None, hi: int = 10_000_000) -> int:
    """A number of samples (1 to `hi`); commas and underscores are accepted."""
    return ask_int(question, default=default, lo=1, hi=hi)


def ask_path(question: str, default: str | None = None, must_exist: bool = True) -> Path:
    """A file or folder path (~ expanded), re-asked while it does not exist."""
    def check(text: str) -> Path:
        path = Path(text.strip().strip("'\"")).expanduser()
        if must_exist and not path.exists():
            raise ValueError(f"{path} does not exist; type another path (Ctrl-C goes back)")
        return path
    return ask_until(question, check, default=default)


def ask_input_folder(question: str, default: str | None = None) -> str:
    """An input folder or file, as typed; relative paths start at the project folder."""
    def check(text: str) -> str:
        if not project_path(text).exists():
            raise ValueError(f"{text} does not exist (relative paths start at {PROJECT_ROOT})")
        return text
    return ask_until(question, check, default=default)


# ---------------------------------------------------------------- dataset questions

MODE_DESCRIPTIONS = {
    "create": "write new Q&A pairs from chunks of your documents (agent LLM, paid)",
    "identify": "extract the conversations already in your documents, verbatim (offline, free)",
    "hybrid": "both: a share created, the rest identified, no duplicates between them",
    "free": "your own instructions drive the agent over your documents (agent LLM, paid)",
}
SPLIT_PRESETS = [("90/10", 0.9), ("80/20", 0.8), ("70/30", 0.7)]
STRATEGIES = [("random", "shuffle with a fixed seed"),
              ("weighted", "every source (or keyword) in both splits, in proportion")]
WEIGHT_BY = [("source", "group samples by their source file"),
             ("keywords", "group samples by their first topic keyword")]


def ask_mode(current: str | None = None) -> str:
    """One of the four generation modes, each with a one-line description."""
    return ask_option("Generation mode", list(MODE_DESCRIPTIONS.items()), current)


def ask_split(enabled: bool, ratio: float, strategy: str, weight_by: str) -> dict[str, object]:
    """Train/validation split questions; returns dotted-key overrides (split.*)."""
    labels = [f"{name} (train {int(r * 100)}%)" for name, r in SPLIT_PRESETS]
    labels += ["custom ratio", "no split (one file)"]
    current = next((i for i, (_, r) in enumerate(SPLIT_PRESETS) if abs(r - ratio) < 1e-9), 3)
    choice = ask_choice("Train/validation split", labels, default=current if enabled else 4)
    if choice == 4:
        return {"split.enabled": False}
    chosen = SPLIT_PRESETS[choice][1] if choice < 3 else ask_ratio(
        "Train share (0.85, 85% or 85/15)", default=ratio)
    strategy = ask_option("Split strategy", STRATEGIES, strategy)
    answer: dict[str, object] = {"split.enabled": True, "split.ratio": chosen,
                                 "split.strategy": strategy}
    if strategy == "weighted":
        answer["split.weight_by"] = ask_option("Weight by", WEIGHT_BY, weight_by)
    return answer


def ask_free_instructions() -> str:
    """Free-mode instructions typed in, re-asked while empty."""
    while True:
        text = ask_multiline("Type your instructions for the agent: what conversations to write, "
                             "in what tone and style")
        if text:
            return text
        console.error("no instructions typed; write at least one line (Ctrl-C goes back)")


# ---------------------------------------------------------------- target and export format

FORMAT_NOTES = {"native": "the target's own JSONL", "openai": "OpenAI chat messages",
                "anthropic": "Bedrock Claude system + messages", "google": "Vertex Gemini contents",
                "mistral": "Mistral chat messages", "llama": "chat messages for hosted Llama tuning",
                "amazon": "Bedrock Nova bedrock-conversation-2024",
                "together": "Together AI chat messages", "fireworks": "Fireworks AI chat messages",
                "mistral_instruct": "instruction/input/output + SetForge metadata",
                "alpaca": "instruction/input/output/history",
                "sharegpt": "conversations with from/value",
                "trl": "folder: TRL prompt/completion JSONL",
                "llamafactory": "folder: JSONL + dataset_info.json for LLaMA-Factory",
                "axolotl": "folder: JSONL + axolotl.yaml (chat_template)",
                "parquet": "folder: Parquet per split (datasets.load_dataset)",
                "hf": "folder: Parquet + dataset card, ready for `push`"}


def model_line(provider: str, model: str) -> str:
    """One catalog model: id, label, token limit, example cap, training price, lifecycle status."""
    spec = catalog.get_model(provider, model)
    price = (f"${spec.training_price_per_1m:g}/1M training tokens"
             + (" (UNCONFIRMED)" if "UNCONFIRMED" in spec.price_note else "")
             if spec.training_price_per_1m is not None else "training price not published")
    most = f", up to {spec.max_examples:,} examples" if spec.max_examples else ""
    status = catalog.status(spec)
    return (f"{spec.model} ({spec.label}): {spec.max_tokens_per_example:,} tokens/example"
            f"{most}; {price}" + (f" [{status}]" if status != "active" else ""))


def provider_line(provider: str) -> str:
    """A provider's label, marked when none of its models takes new fine-tuning jobs for good."""
    open_now = any(catalog.is_open(m) for m in catalog.list_models(provider))
    return TARGETS[provider].label + ("" if open_now else " [closing or closed]")


def ask_target(provider: str, model: str) -> tuple[str, str]:
    """A provider, then one of its catalog models (open ones first); warns about closing targets."""
    provider = ask_option("Target provider (the model the dataset is FOR; open targets first)",
                          [(p, provider_line(p)) for p in catalog.providers_open_first()], provider)
    models = [m.model for m in catalog.models_open_first(provider)]
    try:
        current: int | None = models.index(catalog.get_model(provider, model).model)
    except (ConfigError, ValueError):
        current = None
    chosen = models[ask_choice(f"Target model ({provider})",
                               [model_line(provider, m) for m in models], current)]
    warning = catalog.lifecycle_warning(provider, chosen)
    if warning:
        console.warn(warning)
    return provider, chosen


def ask_export_format(formats: Sequence[str], current: str | None = None) -> str:
    """An export format, each with a one-line description."""
    return ask_option("Export format", [(f, FORMAT_NOTES.get(f, "")) for f in formats], current)
