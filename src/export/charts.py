"""The report's charts, drawn with matplotlib as SVG and embedded in the page: no script, no network.

Why matplotlib (SVG) and not plotly: a chart here is 10-40 kB of SVG that any browser shows as is,
while plotly's offline page must carry its ~4.6 MB JavaScript library inline, for interactivity
these few static figures do not need. Text stays text (svg.fonttype "none"): smaller, searchable.
Each chart is one function of the stats data (export/stats.py), so the report, `stats --json` and
the dataset card show the same numbers.

The charts are drawn by a child interpreter (`python -m src.export.charts`, the stats in on stdin,
the SVGs out as JSON): matplotlib takes ~40 MB of memory, and a `generate` run that exports its
dataset stays within its memory budget only without it (issue 20). The child lives about a second;
where it cannot start, the charts are drawn here.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from src.config import PROJECT_ROOT

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)
CHILD_TIMEOUT_S = 120  # drawing takes about a second
COLORS = {"accepted": "#2f9e44", "rejected": "#e03131", "train": "#1971c2", "validation": "#f08c00",
          "limit": "#c2255c", "neutral": "#868e96", "cost": "#6741d9"}
STYLE: Any = {"svg.fonttype": "none", "svg.hashsalt": "dataset-builder", "font.size": 9,
               "text.parse_math": False,  # "$0.03" is money, not mathtext
         "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 10}
SCORE_NAMES = ("overall", "extractive", "detail", "domain", "faithfulness", "judge")
MAX_BARS = 15  # sources, reasons or labels shown per chart (the largest)


def _figure(width: float, height: float, layout: Any = "constrained") -> Figure:
    from matplotlib.figure import Figure  # heavy: only drawing the report needs it

    return Figure(figsize=(width, height), dpi=96, layout=layout)


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=COLORS["neutral"])
    ax.set_xticks([])
    ax.set_yticks([])


def _legend(ax: Axes, loc: Any) -> None:
    if ax.get_legend_handles_labels()[0]:  # nothing drawn (all empty): no legend, no warning
        ax.legend(loc=loc, frameon=False)


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else "…" + label[-(width - 1):]


def tokens_chart(tokens: dict[str, Any]) -> str:
    """Token lengths of the accepted samples, against the target's per-example limit."""
    fig = _figure(6.4, 2.8)
    ax = fig.add_subplot()
    bins, limit = tokens.get("histogram") or [], tokens.get("limit")
    if not bins:
        _empty(ax, "no accepted samples")
        return _svg(fig)
    ax.bar([b["from"] for b in bins], [b["count"] for b in bins],
           width=[b["to"] - b["from"] + 1 for b in bins], align="edge", color=COLORS["train"])
    ax.set_xlabel("tokens per sample (target's tokenizer)")
    ax.set_ylabel("samples")
    top = bins[-1]["to"] + 1
    if limit and limit <= 3 * top:
        ax.axvline(limit, color=COLORS["limit"], linestyle="--")
        ax.text(limit, ax.get_ylim()[1] * 0.95, f" limit {limit:,}", color=COLORS["limit"], va="top")
    elif limit:
        ax.set_title(f"largest sample: {tokens['max']:,} tokens, {tokens['max'] / limit:.1%} of the "
                     f"{limit:,}-token limit", loc="left", color=COLORS["limit"])
    return _svg(fig)


def scores_chart(distributions: dict[str, dict]) -> str:
    """A histogram per score, accepted and rejected samples stacked."""
    fig = _figure(7.2, 4.2, layout=None)  # fixed spacing: a constrained layout of 6 plots is slow
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.07, top=0.94, wspace=0.28, hspace=0.45)
    axes = fig.subplots(2, 3).flatten()
    for ax, name in zip(axes, SCORE_NAMES):
        accepted = distributions["accepted"].get(name, {})
        rejected = distributions["rejected"].get(name, {})
        if not accepted.get("count") and not rejected.get("count"):
            _empty(ax, "not measured")
            ax.set_title(name)
            continue
        labels = list((accepted.get("buckets") or rejected["buckets"]).keys())
        lows = [float(label.split("-")[0]) for label in labels]
        good = [accepted.get("buckets", {}).get(k, 0) for k in labels]
        bad = [rejected.get("buckets", {}).get(k, 0) for k in labels]
        ax.bar(lows, good, width=0.1, align="edge", color=COLORS["accepted"], label="accepted")
        ax.bar(lows, bad, width=0.1, align="edge", bottom=good, color=COLORS["rejected"],
               label="rejected")
        ax.set_xlim(0, 1)
        ax.set_title(name)
    _legend(axes[0], "upper left")
    return _svg(fig)


def _barh(ax: Axes, labels: list[str], series: list[tuple[str, list[float], str]]) -> None:
    """Horizontal bars, one row per label (largest on top), series stacked."""
    rows = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for name, values, color in series:
        ax.barh(rows, values, left=left, color=color, label=name)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(rows, [_short(label) for label in labels])


def reasons_chart(reasons: dict[str, int]) -> str:
    """Rejected samples per reason (a sample can have several)."""
    items = list(reasons.items())[:MAX_BARS]
    fig = _figure(6.4, 0.6 + 0.28 * max(3, len(items)))
    ax = fig.add_subplot()
    if not items:
        _empty(ax, "nothing was rejected")
        return _svg(fig)
    _barh(ax, [k for k, _ in items], [("rejected", [v for _, v in items], COLORS["rejected"])])
    ax.set_xlabel("rejected samples")
    return _svg(fig)


def split_chart(by_source: dict[str, dict[str, int]]) -> str:
    """Train and validation samples per source file."""
    items = list(by_source.items())[:MAX_BARS]
    fig = _figure(6.4, 0.6 + 0.28 * max(3, len(items)))
    ax = fig.add_subplot()
    if not items:
        _empty(ax, "no accepted samples")
        return _svg(fig)
    labels = [k for k, _ in items]
    _barh(ax, labels, [("train", [v["train"] for _, v in items], COLORS["train"]),
                       ("validation", [v["validation"] for _, v in items], COLORS["validation"]),
                       ("unsplit", [v["samples"] - v["train"] - v["validation"] for _, v in items],
                        COLORS["neutral"])])
    ax.set_xlabel("accepted samples")
    _legend(ax, "lower right")
    return _svg(fig)


def coverage_chart(coverage: dict[str, dict[str, Any]]) -> str:
    """Per source: accepted and rejected samples, and how many of its sections yielded one."""
    items = list(coverage.items())[:MAX_BARS]
    fig = _figure(6.4, 0.6 + 0.28 * max(3, len(items)))
    ax = fig.add_subplot()
    if not items:
        _empty(ax, "no sources recorded")
        return _svg(fig)
    _barh(ax, [k for k, _ in items], [("accepted", [v["accepted"] for _, v in items], COLORS["accepted"]),
                                      ("rejected", [v["rejected"] for _, v in items], COLORS["rejected"])])
    for row, (_, v) in zip(list(range(len(items)))[::-1], items):
        if v["chunks"]:
            ax.text(v["accepted"] + v["rejected"], row, f"  {v['chunks_used']}/{v['chunks']} sections used",
                    va="center", color=COLORS["neutral"])
    ax.set_xlabel("samples")
    ax.set_xlim(0, max(v["accepted"] + v["rejected"] for _, v in items) * 1.6)  # room for the notes
    _legend(ax, "upper right")
    return _svg(fig)


def cost_chart(cost: dict[str, Any], accepted: int) -> str:
    """What each run cost, and the cost per accepted sample."""
    runs = [r for r in cost.get("per_run") or [] if r.get("cost_usd")]
    fig = _figure(6.4, 2.6)
    ax = fig.add_subplot()
    if not runs:
        _empty(ax, "no paid requests (nothing was sent to an LLM)")
        return _svg(fig)
    ax.bar(range(1, len(runs) + 1), [r["cost_usd"] for r in runs], color=COLORS["cost"])
    ax.set_xticks(range(1, len(runs) + 1))
    ax.set_xlabel("run")
    ax.set_ylabel("USD")
    per = cost.get("cost_per_accepted")
    ax.set_title(f"${cost['cost_usd']:.4f} in all; ${per:.5f} per accepted sample ({accepted})"
                 if per is not None else f"${cost['cost_usd']:.4f} in all; no accepted sample",
                 loc="left")
    return _svg(fig)


def mix_chart(diversity: dict[str, Any]) -> str:
    """The mix of question types and personas of the accepted samples."""
    fig = _figure(7.2, 2.8)
    for ax, label in zip(fig.subplots(1, 2), ("question_type", "persona")):
        counts = list(diversity[label]["counts"].items())[:MAX_BARS]
        ax.set_title(label.replace("_", " ") + "s")
        if not counts:
            _empty(ax, "none recorded")
            continue
        _barh(ax, [k for k, _ in counts], [("samples", [v for _, v in counts], COLORS["train"])])
    return _svg(fig)


def charts(stats: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, title, SVG) of every chart of the report, in page order, drawn by a child
    interpreter (see the module docstring)."""
    try:
        done = subprocess.run([sys.executable, "-m", "src.export.charts"], cwd=PROJECT_ROOT,
                              input=json.dumps(stats, default=str), capture_output=True,
                              text=True, timeout=CHILD_TIMEOUT_S, check=True)
        return [(key, title, svg) for key, title, svg in json.loads(done.stdout)]
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        log.warning("the report's charts could not be drawn apart (%s%s); drawing them here",
                    exc.__class__.__name__, f": {detail[-300:]}" if detail else "")
        return draw(stats)


def draw(stats: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, title, SVG) of every chart, drawn in this process."""
    import matplotlib  # heavy (~40 MB): only drawing the report needs it

    with matplotlib.rc_context(STYLE):
        return _charts(stats)


def _charts(stats: dict[str, Any]) -> list[tuple[str, str, str]]:
    quality = stats["quality"]
    return [
        ("tokens", "Token lengths against the target's limit", tokens_chart(stats["tokens"])),
        ("scores", "Score distributions", scores_chart(quality["distributions"])),
        ("reasons", "Rejection reasons", reasons_chart(quality["rejection_reasons"])),
        ("split", "Split balance per source", split_chart(stats["by_source"])),
        ("coverage", "Coverage per source", coverage_chart(stats["coverage"])),
        ("cost", "Cost per accepted sample", cost_chart(stats["cost"], stats["counts"]["accepted"])),
        ("mix", "Question types and personas", mix_chart(quality["diversity"])),
    ]


if __name__ == "__main__":  # the child of charts(): stats JSON in, charts JSON out
    json.dump(draw(json.load(sys.stdin)), sys.stdout)
