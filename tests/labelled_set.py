"""Builders of small in-memory Documents (no ingestion code involved) for the identify tests.

`text_doc` treats blank-line-separated paragraphs as blocks and '#' lines as headings, the way the
Markdown/TXT reader does; `blocks_doc` takes explicit (kind, text, extras) blocks for DOCX, PDF pages,
slides and spreadsheet rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from src.models import Block, Document

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def blocks_doc(path: str, fmt: str, blocks: list[tuple[Any, ...]]) -> Document:
    """A Document from (kind, text[, extras dict]) tuples; offsets and text computed here."""
    made: list[Block] = []
    offset = 0
    for spec in blocks:
        kind, text = spec[0], spec[1]
        extras = dict(spec[2]) if len(spec) > 2 else {}
        extras.setdefault("location", f"paragraph {len(made) + 1}")
        made.append(Block(text=text, kind=kind, start=offset, **extras))
        offset += len(text) + 2
    return Document(path=path, format=fmt, blocks=made, text="\n\n".join(b.text for b in made))


def text_doc(text: str, path: str = "doc.md", fmt: str = "md", keep_hashes: bool = False) -> Document:
    """Paragraphs split on blank lines; '# Title' paragraphs become heading blocks."""
    specs: list[tuple[Any, ...]] = []
    for para in re.split(r"\n\s*\n", text.strip("\n")):
        if not para.strip():
            continue
        match = HEADING.match(para.strip())
        if match and "\n" not in para.strip():
            shown = para.strip() if keep_hashes else match.group(2).strip()
            specs.append(("heading", shown, {"level": len(match.group(1))}))
        elif re.match(r"^\s*([-*•]|\d{1,2}[.)])\s", para) and fmt != "txt":
            specs.append(("list_item", para.rstrip()))
        else:
            specs.append(("paragraph", para.rstrip()))
    return blocks_doc(path, fmt, specs)


def pages_doc(pages: list[str], path: str = "doc.pdf") -> Document:
    """A PDF-like document: each page's paragraphs are blocks located 'page N'."""
    specs: list[tuple[Any, ...]] = []
    for number, page in enumerate(pages, 1):
        for para in re.split(r"\n\s*\n", page.strip("\n")):
            if para.strip():
                specs.append(("paragraph", para.strip(), {"location": f"page {number}"}))
    return blocks_doc(path, "pdf", specs)


def rows_doc(header: list[str], rows: list[list[str]], path: str = "faq.csv",
             sheet: str = "") -> Document:
    """CSV/XLSX rows: one 'row' block per data row, text = 'column: value' lines."""
    specs: list[tuple[Any, ...]] = []
    where = f"sheet {sheet} row" if sheet else "row"
    for number, row in enumerate(rows, 2):
        text = "\n".join(f"{h}: {c}" for h, c in zip(header, row) if str(c).strip())
        specs.append(("row", text, {"location": f"{where} {number}", "cells": list(row),
                                    "header": list(header)}))
    return blocks_doc(path, "xlsx" if sheet else "csv", specs)


def slides_doc(slides: list[tuple[str, list[str], str]], path: str = "deck.pptx") -> Document:
    """(title, body paragraphs, notes) per slide."""
    specs: list[tuple[Any, ...]] = []
    for number, (title, bodies, notes) in enumerate(slides, 1):
        where = {"location": f"slide {number}"}
        if title:
            specs.append(("title", title, where))
        specs.extend(("body", body, where) for body in bodies)
        if notes:
            specs.append(("notes", notes, where))
    return blocks_doc(path, "pptx", specs)


def load_text(name: str) -> str:
    """A labelled document's source text from tests/data/identify/."""
    return (Path(__file__).parent / "data" / "identify" / name).read_text(encoding="utf-8")


LABELLED = Path(__file__).parent / "data" / "identify"
MARKUP = re.compile(r"^\[(h\d|b|li|tr)\]\s+(.*)$", re.DOTALL)


def _markup_block(para: str) -> tuple[Any, ...]:
    match = MARKUP.match(para)
    if not match:
        return ("paragraph", para)
    tag, text = match.groups()
    if tag.startswith("h"):
        return ("heading", text, {"level": int(tag[1:])})
    if tag == "b":
        return ("paragraph", text, {"bold": True})
    if tag == "li":
        return ("list_item", text, {"level": 1})
    return ("table_row", text.replace(" | ", "\t"), {"cells": text.split(" | ")})


def docx_doc(source: str, path: str) -> Document:
    """DOCX-like paragraphs with tags: [h2] heading, [b] bold paragraph, [li] list item, [tr] a | b."""
    paras = [p.strip("\n") for p in re.split(r"\n\s*\n", source) if p.strip()]
    return blocks_doc(path, "docx", [_markup_block(p) for p in paras])


def deck_doc(source: str, path: str) -> Document:
    """'=== slide ===' sections with 'title:', 'body:' and 'notes:' lines."""
    slides = []
    for chunk in source.split("=== slide ===")[1:]:
        fields: dict[str, list[str]] = {"title": [], "body": [], "notes": []}
        for line in chunk.strip().splitlines():
            key, _, value = line.partition(": ")
            fields[key].append(value)
        slides.append((" ".join(fields["title"]), fields["body"], " ".join(fields["notes"])))
    return slides_doc(slides, path)


def csv_doc(source: str, path: str) -> Document:
    """CSV text as spreadsheet rows (an '.xlsx.csv' name makes them rows of sheet 'Sheet1')."""
    import csv
    import io

    header, *rows = list(csv.reader(io.StringIO(source)))
    return rows_doc(header, rows, path, sheet="Sheet1" if path.endswith(".xlsx.csv") else "")


def load_case(relative: str) -> Document:
    """A labelled document of tests/data/identify, built the way its real format is ingested."""
    source = (LABELLED / relative).read_text(encoding="utf-8")
    path = str(LABELLED / relative)
    if relative.endswith(".docx.txt"):
        return docx_doc(source, path)
    if relative.endswith(".pdf.txt"):
        return pages_doc(source.split("<<<page>>>\n"), path)
    if relative.endswith(".pptx.txt"):
        return deck_doc(source, path)
    if relative.endswith(".csv"):
        return csv_doc(source, path)
    fmt = "md" if relative.endswith(".md") else "txt"
    return text_doc(source, path, fmt)


def labels() -> dict[str, list[tuple[str, str]]]:
    """Expected (question, answer) pairs per labelled document (negatives map to [])."""
    import json

    data = json.loads((LABELLED / "labels.json").read_text(encoding="utf-8"))
    return {name: [(p["question"], p["answer"]) for p in pairs] for name, pairs in data.items()}


# ------------------------------------------------------------------ the second labelled set

SET2 = Path(__file__).parent / "data" / "identify2"
PARTS = ("tuned", "heldout")
Conversation = list[tuple[str, str]]  # (role, text) per turn
MATCH_QUESTION = 0.8  # similarity of the first user turns for a found conversation to match
MATCH_REST = 0.5  # similarity of the rest of the conversation


def set2_labels(part: str) -> dict[str, list[Conversation]]:
    """Expected conversations per document of one part ('tuned' or 'heldout')."""
    import yaml

    data = yaml.safe_load((SET2 / f"labels_{part}.yaml").read_text(encoding="utf-8"))
    out: dict[str, list[Conversation]] = {}
    for name, items in data.items():
        out[name] = [[(str(r), str(t)) for r, t in item["turns"]] if "turns" in item
                     else [("user", str(item["q"])), ("assistant", str(item["a"]))]
                     for item in items or []]
    return out


def set2_files(part: str, out_dir: Path) -> dict[str, Path]:
    """The part's documents written as real files (PDF/DOCX/XLSX made from their markup)."""
    from tests.make_documents import materialise

    return {name: materialise(SET2 / part / name, out_dir / part) for name in set2_labels(part)}


def _norm(text: str) -> str:
    return " ".join(text.split())


def _similar(a: str, b: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


def _matches(found: Conversation, want: Conversation) -> bool:
    rest_found = " ".join(t for _, t in found[1:])
    rest_want = " ".join(t for _, t in want[1:])
    return (found[0][0] == "user" and _similar(found[0][1], want[0][1]) >= MATCH_QUESTION
            and _similar(rest_found, rest_want) >= MATCH_REST)


def verbatim(found: Conversation, want: Conversation) -> bool:
    """Same roles, same number of turns, and every turn equal after whitespace normalisation."""
    return len(found) == len(want) and all(
        fr == wr and _norm(ft) == _norm(wt) for (fr, ft), (wr, wt) in zip(found, want))


@dataclass
class Score:
    """Precision/recall counts over a labelled set; `misses` says what went wrong, per document."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    verbatim: int = 0
    false_positive_documents: list[str] = field(default_factory=list)  # documents without Q&A
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / max(self.tp + self.fp, 1)

    @property
    def recall(self) -> float:
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def verbatim_share(self) -> float:
        return self.verbatim / max(self.tp, 1)

    def line(self) -> str:
        return (f"precision {self.precision:.3f}, recall {self.recall:.3f}, F1 {self.f1:.3f}, "
                f"verbatim {self.verbatim_share:.3f} (true {self.tp}, false {self.fp}, "
                f"missed {self.fn}, false positives on documents without Q&A: "
                f"{len(self.false_positive_documents)})")


def score_document(score: Score, name: str, found: list[Conversation],
                   expected: list[Conversation]) -> None:
    """Add one document's matches to score: each expected conversation matches one found at most."""
    left = list(found)
    for want in expected:
        hit = next((f for f in left if _matches(f, want)), None)
        if hit is None:
            score.fn += 1
            score.misses.append(f"{name}: missed {want[0][1][:60]!r}")
            continue
        left.remove(hit)
        score.tp += 1
        if verbatim(hit, want):
            score.verbatim += 1
        else:
            score.misses.append(f"{name}: not verbatim {want[0][1][:40]!r}: "
                                f"{[t[:50] for _, t in hit]}")
    score.fp += len(left)
    score.misses += [f"{name}: false {f[0][1][:60]!r}" for f in left]
    if left and not expected:
        score.false_positive_documents.append(name)


def conversations(examples: list) -> list[Conversation]:
    """Examples as (role, text) turn lists."""
    return [[(t.role, t.content) for t in ex.turns] for ex in examples]


def score_set2(part: str, out_dir: Path, find: Any) -> Score:
    """Score one part: `find(path) -> list[Example]` is run on every document of it."""
    expected = set2_labels(part)
    score = Score()
    for name, path in set2_files(part, out_dir).items():
        score_document(score, name, conversations(find(path)), expected[name])
    return score
