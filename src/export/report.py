"""The dataset report: one self-contained HTML page, output_datasets/<name>/<name>_report.html.

Everything is inside the file: styles, the charts (SVG from charts.py, as data: URLs), the samples.
A Content-Security-Policy forbids loading anything from elsewhere, so the page opens the same
offline. The figures are `dataset_stats` (the same numbers as `stats --json` and the dataset card);
the weakest samples are shown with each claim marked supported (hover: its evidence in the source)
or unsupported (hover: what the source lacks).
"""

from __future__ import annotations

import base64
import datetime
from html import escape
from pathlib import Path
from typing import Any

from src.export.charts import charts
from src.export.figures import worst_samples
from src.export.paths import dataset_dir, safe_output_name
from src.export.stats import dataset_stats
from src.persistence.files import write_text_atomic
from src.persistence.sqlite_client import Database

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#212529;background:#f8f9fa}
main{max-width:1180px;margin:auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #dee2e6}
.sub{color:#868e96}.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.tile{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:10px 14px;min-width:130px}
.tile b{display:block;font-size:20px}.tile span{color:#868e96;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
figure{background:#fff;border:1px solid #dee2e6;border-radius:6px;margin:0;padding:10px}
figure img{width:100%;height:auto}figcaption{font-weight:600;margin-bottom:6px}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #dee2e6;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f1f3f5}
.flag{background:#fff4e6;border-left:4px solid #f08c00;padding:6px 10px;margin:6px 0}
.ok{background:#ebfbee;border-left:4px solid #2f9e44;padding:6px 10px}
.sample{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:10px 14px;margin:10px 0}
.q{font-weight:600}.meta{color:#868e96;font-size:12px}
mark.unsupported{background:#ffc9c9;text-decoration:underline wavy #e03131}
span.supported{border-bottom:2px solid #8ce99a}span.verbatim{border-bottom:2px dotted #74c0fc}
footer{color:#868e96;font-size:12px;margin:30px 0}
"""
SCRIPT = """addEventListener('load',function(){var imgs=document.querySelectorAll('img[data-chart]'),n=0;
imgs.forEach(function(i){if(i.naturalWidth>0&&i.getBoundingClientRect().height>0)n++});
document.body.dataset.chartsDrawn=n+'/'+imgs.length;
document.getElementById('drawn').textContent=n+' of '+imgs.length+' charts drawn.'});"""


def report_path(name: str, out_dir: Path | None = None) -> Path:
    """Where a dataset's report goes: output_datasets/<name>/<name>_report.html."""
    safe = safe_output_name(name)
    return dataset_dir(safe, out_dir) / f"{safe}_report.html"


def write_report(db: Database, name: str, out_dir: Path | None = None) -> Path:
    """Write the report of a stored dataset (whole or not at all); returns its path."""
    dataset = db.get_dataset(name)
    path = report_path(dataset["name"], out_dir)
    return write_text_atomic(path, report_html(db, dataset["id"]))


def report_html(db: Database, name: str, stats: dict[str, Any] | None = None) -> str:
    """The report page of a stored dataset (name or id); `stats`: its dataset_stats, if at hand."""
    stats = stats or dataset_stats(db, name)
    examples = db.load_examples(stats["dataset"]["id"], status=None)
    return _page(stats, worst_samples(examples))


def _page(stats: dict[str, Any], worst: dict[str, list[dict]]) -> str:
    d = stats["dataset"]
    title = f"Dataset report: {d['name']}"
    body = [f"<h1>{escape(title)}</h1>",
            f"<div class=sub>target {escape(d['provider'])}/{escape(d['model'])} · mode "
            f"{escape(d['mode'])} · created {escape(str(d['created_at']))} · report written "
            f"{datetime.datetime.now():%Y-%m-%d %H:%M}</div>",
            _tiles(stats), _flags(stats), "<h2>Charts</h2>", _charts(stats),
            _judge(stats["quality"]["judge"]), _diversity(stats["quality"]["diversity"]),
            _contamination(stats["quality"]["contamination"]),
            _samples("Weakest accepted samples", worst["accepted"]),
            _samples("Rejected samples with unsupported claims", worst["rejected"]),
            "<footer>One self-contained file: nothing is loaded from anywhere. "
            "<span id=drawn></span></footer>"]
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta http-equiv=Content-Security-Policy content=\"{CSP}\">"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{''.join(body)}</main><script>{SCRIPT}</script></body></html>\n")


def _tile(value: str, label: str) -> str:
    return f"<div class=tile><b>{escape(value)}</b><span>{escape(label)}</span></div>"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _tiles(stats: dict[str, Any]) -> str:
    c, q, cost = stats["counts"], stats["quality"], stats["cost"]
    faith = q["faithfulness"]
    per = cost["cost_per_accepted"]
    tiles = [_tile(f"{c['accepted']:,}", "accepted samples"), _tile(f"{c['rejected']:,}", "rejected"),
             *([_tile(f"{c['surplus']:,}", "surplus (good, beyond the size; kept for a larger run)")]
               if c.get("surplus") else []),
             _tile(f"{c['train']:,} / {c['validation']:,}", "train / validation"),
             _tile(_share(faith["mean"]), "mean faithfulness (claims supported)"),
             _tile(_share(faith["fully_supported_share"]), "samples with every claim supported"),
             _tile(_share(q["judge"]["agreement"]), f"judge agrees with offline checks "
                                                    f"({q['judge']['judged']} judged)"),
             _tile(f"{q['contamination']['contaminated']:,}", "contaminated (rejected)"),
             _tile("–" if per is None else f"${per:.5f}" if cost["cost_usd"] else "$0",
                   "cost per accepted sample")]
    return f"<div class=tiles>{''.join(tiles)}</div>"


def _flags(stats: dict[str, Any]) -> str:
    flags = [f["advice"] for f in stats["quality"]["diversity"]["flags"]]
    tokens = stats["tokens"]
    if tokens.get("over"):
        flags.append(f"{tokens['over']} accepted samples exceed the target's {tokens['limit']:,}-token "
                     "limit: lower chunking.chunk_tokens or agent.create.turns.")
    if not flags:
        return "<h2>Checks</h2><div class=ok>Nothing flagged: diversity, coverage and token lengths " \
               "are within their limits.</div>"
    return "<h2>Checks</h2>" + "".join(f"<div class=flag>{escape(f)}</div>" for f in flags)


def _charts(stats: dict[str, Any]) -> str:
    figures = []
    for key, title, svg in charts(stats):
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        figures.append(f"<figure id=chart-{key}><figcaption>{escape(title)}</figcaption>"
                       f"<img data-chart={key} alt='{escape(title)}' "
                       f"src='data:image/svg+xml;base64,{data}'></figure>")
    return f"<div class=grid>{''.join(figures)}</div>"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _judge(judge: dict[str, Any]) -> str:
    if not judge["judged"]:
        return ("<h2>LLM judge</h2><p class=sub>Not run: set quality.llm_judge: true to have the "
                "agent LLM judge each sample against its source (paid, counted in the estimate).</p>")
    rows = [["offline checks pass", judge["both_pass"], judge["judge_only_fails"]],
            ["offline checks fail", judge["offline_only_fails"], judge["both_fail"]]]
    yes = ", ".join(f"{k} {_share(v)}" for k, v in judge["yes_share"].items())
    return (f"<h2>LLM judge</h2><p>{judge['judged']} samples judged; the judge and the offline "
            f"grounding checks agree on {_share(judge['agreement'])} of them. Answered yes: {escape(yes)}."
            f"</p>" + _table(["", "judge: grounded", "judge: not grounded"], rows))


def _diversity(div: dict[str, Any]) -> str:
    rows = [[part, div[part]["compression_ratio"], div[part]["repeated_ngram_share"],
             div[part]["self_similarity"]] for part in ("questions", "answers")]
    return (f"<h2>Diversity</h2><p class=sub>Measured on {div['measured_on']:,} accepted samples. "
            "Higher compression ratio, repeated 4-gram share and self-similarity mean more "
            "repetitive text.</p>"
            + _table(["", "compression ratio", "repeated 4-gram share", "self-similarity"], rows))


def _contamination(found: dict[str, Any]) -> str:
    if not found["contaminated"]:
        return ("<h2>Decontamination</h2><p class=sub>No sample was rejected as contaminated "
                "(generate --decontaminate FILE... checks against your evaluation sets).</p>")
    rows = [[h["source_file"], h["location"], h["question"], h["match"]] for h in found["hits"]]
    return (f"<h2>Decontamination</h2><p>{found['contaminated']} samples overlap your evaluation "
            f"sets and were rejected.</p>" + _table(["source", "where", "question", "overlap"], rows))


def _segment(part: dict[str, Any]) -> str:
    text = escape(part["text"])
    status = part.get("status")
    if status == "unsupported":
        why = "not in the source: " + ", ".join(part["missing"])
        return f"<mark class=unsupported title='{escape(why)}'>{text}</mark>"
    if status in ("supported", "verbatim"):
        tip = part["evidence"] or "verbatim text of the document"
        return f"<span class={status} title='{escape(tip[:500])}'>{text}</span>"
    return text


def _samples(title: str, samples: list[dict[str, Any]]) -> str:
    if not samples:
        return f"<h2>{escape(title)}</h2><p class=sub>None.</p>"
    cards = []
    for s in samples:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in s["scores"].items())
        judge = s["judge"].get("rationale") if s["judge"] else ""
        cards.append(f"<div class=sample><div class=meta>{escape(s['source_file'])} · "
                     f"{escape(s['location'])} · {escape(scores)}"
                     + (f" · rejected: {escape(', '.join(s['reasons']))}" if s["reasons"] else "")
                     + f"</div><div class=q>{escape(s['question'])}</div>"
                     f"<div>{''.join(_segment(p) for p in s['answer'])}</div>"
                     + (f"<div class=meta>judge: {escape(judge)}</div>" if judge else "") + "</div>")
    legend = ("<p class=sub><mark class=unsupported>unsupported claim</mark> · "
              "<span class=supported>claim found in the source</span> (hover for the evidence or what "
              "is missing)</p>")
    return f"<h2>{escape(title)}</h2>{legend}{''.join(cards)}"
