"""The live quality line shown during generation (the SetForge "monitoring dashboard").

    mon = QualityMonitor(target=100, budget_usd=5.0)
    mon.update(example)               # a scored sample arrived (accepted or rejected)
    mon.update(cost_usd=0.42)         # the run's spend so far (a running total, never lowered)
    mon.update(error=True)            # a request failed after its retries
    bar.set_postfix_str(mon.line())   # tqdm

Means are over every scored sample, so the line shows how good generation is, not only what passed.
The error rate is failed requests over (failed requests + scored samples).
"""

from __future__ import annotations

import threading

from src.models import Example

SUB_SCORES = ("extractive", "detail", "domain")


class QualityMonitor:
    """Running counts, means and costs of a generation run, rendered as one short line."""

    def __init__(self, target: int, budget_usd: float):
        self.target = target
        self.budget_usd = budget_usd
        self.scored = 0
        self.accepted = 0
        self.errors = 0
        self.cost_usd = 0.0
        self._sums = {name: 0.0 for name in ("overall", *SUB_SCORES)}
        self._lock = threading.Lock()

    def update(self, example: Example | None = None, cost_usd: float = 0.0, error: bool = False) -> None:
        """Count one scored example and/or an error; `cost_usd` is the run's spend so far."""
        with self._lock:
            self.cost_usd = max(self.cost_usd, cost_usd)
            self.errors += int(error)
            if example is None:
                return
            self.scored += 1
            self.accepted += int(not example.rejected)
            for name in self._sums:
                self._sums[name] += example.scores.get(name, 0.0)

    def mean(self, name: str) -> float:
        """Mean of one score over the scored samples (0 before any)."""
        return self._sums[name] / self.scored if self.scored else 0.0

    def snapshot(self) -> dict:
        """The current figures as plain data (for logs and the run summary)."""
        with self._lock:
            done = self.scored + self.errors
            return {"accepted": self.accepted, "target": self.target, "scored": self.scored,
                    "acceptance_rate": self.accepted / self.scored if self.scored else 0.0,
                    "mean": {name: round(self.mean(name), 4) for name in self._sums},
                    "cost_usd": round(self.cost_usd, 6), "budget_usd": self.budget_usd,
                    "cost_per_accepted": self.cost_usd / self.accepted if self.accepted else None,
                    "errors": self.errors, "error_rate": self.errors / done if done else 0.0}

    def line(self) -> str:
        """One short status line: accepted/target, rates, mean scores, cost against budget."""
        s = self.snapshot()
        per_pair = f"${s['cost_per_accepted']:.4f}/pair" if s["cost_per_accepted"] is not None else "$-/pair"
        means = s["mean"]
        return (f"ok {s['accepted']}/{s['target']} ({s['acceptance_rate']:.0%} pass) | "
                f"q {means['overall']:.2f} ext {means['extractive']:.2f} det {means['detail']:.2f} "
                f"dom {means['domain']:.2f} | ${s['cost_usd']:.2f}/${s['budget_usd']:.2f} {per_pair} | "
                f"err {s['error_rate']:.1%}")
