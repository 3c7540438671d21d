"""Quality-score an existing JSONL dataset (`validate FILE --quality`), made here or elsewhere.

Every record of any supported format (OpenAI/Mistral/Llama `messages`, Bedrock `system`+`messages`,
Gemini `contents`, SetForge `instruction`/`input`/`output`, Alpaca, ShareGPT) becomes an Example.
Its source text is the record's context: `input` (SetForge, Alpaca) or a top-level `context`, else
a system message that holds the context (after a "Context:" heading or in <context> tags, or a long
system message as a whole); without one, grounding is not checked and the example counts as
"no source".
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

from src.config import Config, QualityConfig
from src.errors import InputFileError
from src.models import Example, Turn, reason_counts
from src.quality import scores
from src.quality.error_analysis import example_summary, score_distributions, write_report
from src.targets.formatter import content_text, detect_format, to_messages

SYSTEM_CONTEXT_MIN_WORDS = 60  # a system message this long without a heading is taken as context
_CONTEXT_HEADING = re.compile(r"(?:^|\n)[ \t#*]*(?:context|source text|reference text|source)[ \t*]*[:\n]",
                              re.I)
_CONTEXT_TAGS = re.compile(r"<context>(.*?)</context>", re.I | re.S)
_INST_TAGS = re.compile(r"</?s>|\[/?INST\]")


def context_from_system(system: str) -> str:
    """The context a system message carries, or "" when it is only an instruction."""
    tagged = _CONTEXT_TAGS.search(system)
    if tagged:
        return tagged.group(1).strip()
    heading = _CONTEXT_HEADING.search(system)
    if heading:
        return system[heading.end():].strip()
    return system if len(system.split()) >= SYSTEM_CONTEXT_MIN_WORDS else ""


def record_to_example(record: dict, line: int, source: str) -> Example:
    """One JSONL record of any supported format as an Example (context split off the prompt)."""
    fmt = detect_format(record)
    context = content_text(record.get("context"))
    if fmt in ("alpaca", "mistral_instruct"):
        context = context or content_text(record.get("input"))
        record = {k: v for k, v in record.items() if k != "input"}
    messages = to_messages(record, fmt)
    system = "\n".join(content_text(m.get("content")) for m in messages if m.get("role") == "system")
    turns = [Turn(str(m["role"]), _INST_TAGS.sub("", content_text(m.get("content"))).strip())
             for m in messages if m.get("role") in ("user", "assistant")]
    return Example(turns=turns, system=system or None, context=context or context_from_system(system),
                   origin="synthetic", source_file=content_text(record.get("context_source")) or source,
                   location=f"line {line}", question_type=content_text(record.get("question_type")),
                   persona=content_text(record.get("persona")))


def read_examples(path: Path) -> tuple[list[Example], list[dict]]:
    """(examples, malformed lines with their errors) of a JSONL file."""
    if not path.is_file():
        raise InputFileError(str(path), "no such file. Pass the path of a .jsonl dataset.")
    examples, malformed = [], []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError("a line must hold one JSON object")
                example = record_to_example(record, number, path.name)
                if not example.answer.strip():
                    raise ValueError("no assistant answer found")
                examples.append(example)
            except (UnicodeDecodeError, ValueError) as exc:
                malformed.append({"line": number, "error": str(exc)[:200]})
    return examples, malformed


def domain_focus(examples: list[Example], config: QualityConfig) -> dict:
    """How many examples reach the domain threshold, and which profile terms they mention."""
    profile = config.domain
    if not (profile.keywords or profile.entities):
        return {"profile": None, "note": "no domain profile configured: set quality.domain "
                                         "(keywords, entities) in config.yaml to measure it"}
    terms: Counter[str] = Counter()
    without = 0
    for example in examples:  # one lookup per example feeds both figures
        found = scores.domain_terms(f"{example.question}\n{example.answer}", profile)
        terms.update(found)
        without += not found
    limit = config.thresholds.domain
    focused = sum(e.scores.get("domain", 0.0) >= limit for e in examples)
    return {"profile": profile.name or "(unnamed)", "threshold": limit, "focused": focused,
            "share_focused": round(focused / len(examples), 4) if examples else 0.0,
            "without_any_term": without, "term_counts": dict(terms.most_common())}


def _with_threshold(config: QualityConfig, threshold: float | None) -> QualityConfig:
    if threshold is None:
        return config
    return dataclasses.replace(config, thresholds=dataclasses.replace(config.thresholds, overall=threshold))


def score_jsonl(path: Path, config: Config, threshold: float | None = None,
                report_path: Path | None = None) -> dict:
    """Score every example of a JSONL file; returns (and optionally writes) the quality report."""
    path = Path(path)
    settings = _with_threshold(config.quality, threshold)
    examples, malformed = read_examples(path)
    scores.score_examples(examples, settings)
    limit = settings.thresholds.overall
    below = sorted((e for e in examples if e.scores["overall"] < limit), key=lambda e: e.scores["overall"])
    report = {"file": str(path), "examples": len(examples), "malformed": malformed, "threshold": limit,
              "passed": len(examples) - len(below), "accepted": sum(not e.rejected for e in examples),
              "rejected": sum(e.rejected for e in examples),
              "no_source": sum(not e.context.strip() for e in examples),
              "categories": reason_counts(examples),
              "distribution": score_distributions(examples),
              "below_threshold": [example_summary(e) for e in below],
              "domain_focus": domain_focus(examples, settings)}
    if report_path is not None:
        write_report(report, Path(report_path))
    return report
