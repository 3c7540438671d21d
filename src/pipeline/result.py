"""The outcome of a run, as the summary screens and `generate --json` show it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunResult:
    """The outcome of a run, as `generate --json` prints it."""

    dataset_id: str
    name: str
    mode: str
    target: str
    counts: dict[str, int]
    tokens: int
    cost_usd: float
    requests: int
    files: dict[str, str]
    skipped: list[dict]
    warnings: list[str]
    stopped_reason: str = ""
    failures: dict[str, int] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"dataset_id": self.dataset_id, "name": self.name, "mode": self.mode,
                "target": self.target, "counts": self.counts, "tokens": self.tokens,
                "cost_usd": round(self.cost_usd, 6), "requests": self.requests,
                "files": self.files, "skipped": self.skipped, "warnings": self.warnings,
                "stopped_reason": self.stopped_reason, "failures": self.failures,
                "summary": self.summary}


