"""The live quality line."""

from __future__ import annotations

import pytest

from src.models import Example, Turn
from src.quality.monitor import QualityMonitor


def scored(overall: float, rejected: bool = False) -> Example:
    ex = Example(turns=[Turn("user", "q"), Turn("assistant", "a")],
                 scores={"overall": overall, "extractive": overall, "detail": 0.5, "domain": 1.0})
    if rejected:
        ex.reasons.append("low_extractive")
    return ex


def test_line_before_any_sample() -> None:
    line = QualityMonitor(target=100, budget_usd=5.0).line()
    assert line.startswith("ok 0/100 (0% pass)")
    assert "$0.00/$5.00 $-/pair" in line and "err 0.0%" in line


def test_counts_means_costs_and_error_rate() -> None:
    mon = QualityMonitor(target=10, budget_usd=2.0)
    mon.update(scored(0.9), cost_usd=0.02)
    mon.update(scored(0.8), cost_usd=0.04)
    mon.update(scored(0.4, rejected=True), cost_usd=0.06)
    mon.update(error=True)  # no cost given: the running total stays
    snap = mon.snapshot()
    assert (snap["accepted"], snap["scored"], snap["errors"]) == (2, 3, 1)
    assert snap["acceptance_rate"] == pytest.approx(2 / 3)
    assert snap["mean"]["overall"] == pytest.approx(0.7)
    assert snap["cost_per_accepted"] == pytest.approx(0.03)
    assert snap["error_rate"] == pytest.approx(0.25)
    line = mon.line()
    for part in ("ok 2/10 (67% pass)", "q 0.70", "ext 0.70", "det 0.50", "dom 1.00",
                 "$0.06/$2.00", "$0.0300/pair", "err 25.0%"):
        assert part in line
