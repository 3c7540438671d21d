"""A validation report: errors and warnings with line numbers, counts and token totals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 200  # issues kept per list; counts cover all of them


@dataclass(frozen=True)
class Issue:
    line: int  # 1-based line of the JSONL file (record index + 1 for in-memory records); 0 = file
    rule: str
    message: str


@dataclass
class ValidationReport:
    """Errors and warnings with line numbers, counts and token totals for one file or dataset."""

    provider: str
    model: str
    format: str
    split: str
    tokenizer: str
    exact: bool
    structure_only: bool = False  # open-trainer records: shape checked, no provider limits
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    error_counts: Counter = field(default_factory=Counter)
    warning_counts: Counter = field(default_factory=Counter)
    lines: int = 0
    examples: int = 0
    total_tokens: int = 0
    max_example_tokens: int = 0
    over_limit: int = 0
    file_bytes: int | None = None
    token_limit: int = 0
    training_cost_per_epoch_usd: float | None = None
    # every line with an error and its rules, uncapped (the pipeline rejects each of them)
    failing_lines: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error_counts

    def add(self, severity: str, line: int, rule: str, message: str) -> None:
        """Record one error or warning (lists are capped; counts are not)."""
        bucket, counts = ((self.errors, self.error_counts) if severity == "error"
                          else (self.warnings, self.warning_counts))
        counts[rule] += 1
        if severity == "error" and line:
            self.failing_lines.setdefault(line, []).append(rule)
        if len(bucket) < MAX_LISTED:
            bucket.append(Issue(line, rule, message))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json and stats files."""
        return {
            "ok": self.ok, "provider": self.provider, "model": self.model, "format": self.format,
            "split": self.split, "tokenizer": self.tokenizer,
            "checked": "structure only" if self.structure_only else "target rules",
            "token_counts": "exact" if self.exact else "estimate",
            "lines": self.lines, "examples": self.examples, "total_tokens": self.total_tokens,
            "max_example_tokens": self.max_example_tokens, "token_limit": self.token_limit,
            "over_limit": self.over_limit, "file_bytes": self.file_bytes,
            "training_cost_per_epoch_usd": self.training_cost_per_epoch_usd,
            "errors_total": sum(self.error_counts.values()),
            "warnings_total": sum(self.warning_counts.values()),
            "error_counts": dict(self.error_counts), "warning_counts": dict(self.warning_counts),
            "errors": [[i.line, i.rule, i.message] for i in self.errors],
            "warnings": [[i.line, i.rule, i.message] for i in self.warnings],
        }
