"""Decontamination: no sample may repeat the user's evaluation sets (`--decontaminate FILE...`).

Every record of an evaluation file (JSONL or a JSON array, CSV/TSV, Parquet) becomes one text: all
its string values (nested ones too), so any layout works (question/answer, prompt/completion,
messages, MMLU-style choices). Each sample (all its turns) is checked two ways, as in the
decontamination of GPT-3 and Llama's evaluations:

- long n-gram overlap: the sample shares a run of NGRAM (13) words with a record, after the
  normalisation dedup uses (lower case, words only); a record, or a field of one, that is shorter
  than that but at least MIN_WORDS long counts when the sample contains all of it;
- near duplicate: MinHash/LSH (dedup.CrossIndex) finds records and fields whose word pairs have a
  Jaccard similarity of at least NEAR_DUPLICATE with the sample, its question or its answer.

A hit is rejected as `contaminated` with a note naming the file, the record and the overlap.
Verbatim samples get no exemption: a document that contains the evaluation set is exactly the
contamination to catch.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from src.errors import InputFileError
from src.ingest.readers.encoding import open_text
from src.models import Example
from src.quality.dedup import CrossIndex, normalise
from src.quality.file_report import read_examples
from src.utils.text import preview

NGRAM = 13  # words in a row: GPT-3's contamination check
MIN_WORDS = 8  # shorter records and fields are too generic to call a hit
NEAR_DUPLICATE = 0.7  # Jaccard similarity of word pairs
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "csv",
           ".parquet": "parquet", ".pq": "parquet"}
SHOWN_CHARS = 80


@dataclass
class EvalRecord:
    """One record of an evaluation file: where it is, and its text."""

    file: str
    where: str  # "line 12", "row 4"
    text: str


@dataclass
class EvalSets:
    """The user's evaluation sets, indexed for the checks above."""

    files: list[str]
    records: list[EvalRecord]
    skipped: list[str] = field(default_factory=list)  # unreadable lines, with where they are
    ngrams: dict[str, int] = field(default_factory=dict)  # NGRAM words → record
    whole: dict[int, dict[str, int]] = field(default_factory=dict)  # length → short text → record
    near: CrossIndex | None = None
    near_records: list[int] = field(default_factory=list)  # row of `near` → record

    def describe(self) -> str:
        skipped = f"; {len(self.skipped)} unreadable line(s) skipped" if self.skipped else ""
        return (f"decontamination: {len(self.records):,} record(s) of {len(self.files)} evaluation "
                f"file(s) ({', '.join(Path(f).name for f in self.files)}){skipped}")


# ---------------------------------------------------------------- reading

def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _json_lines(path: Path, skipped: list[str]) -> Iterator[tuple[str, object]]:
    stream, _, _ = open_text(path)
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as exc:
                skipped.append(f"{path.name} line {number}: {exc.msg}")


def _json_array(path: Path) -> Iterator[tuple[str, object]]:
    stream, _, _ = open_text(path)
    with stream:
        try:
            data = json.load(stream)
        except json.JSONDecodeError as exc:
            raise InputFileError(str(path), f"not valid JSON ({exc.msg} at line {exc.lineno}). "
                                            "Give a JSON array of records, or JSONL.") from None
    for number, record in enumerate(data if isinstance(data, list) else [data], start=1):
        yield f"record {number}", record


def _csv_rows(path: Path) -> Iterator[tuple[str, object]]:
    stream, _, _ = open_text(path, newline="")
    with stream:
        sample = stream.read(64_000)
        stream.seek(0)
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(sample)
        for number, row in enumerate(csv.reader(stream, delimiter=delimiter), start=1):
            yield f"row {number}", [cell.lstrip("\ufeff") for cell in row]


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _parquet_rows(path: Path) -> Iterator[tuple[str, object]]:
    import pyarrow.parquet as pq  # heavy: only Parquet evaluation sets need it

    try:
        table = pq.ParquetFile(path)
        number = 0
        for batch in table.iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                number += 1
                yield f"row {number}", record
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InputFileError(str(path), f"cannot be read as Parquet ({exc}).") from None


def _records(path: Path, skipped: list[str]) -> Iterator[EvalRecord]:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputFileError(str(path), "is not an evaluation set this tool reads: use JSONL, JSON, "
                                        "CSV/TSV or Parquet (by file extension).")
    rows = {"jsonl": lambda: _json_lines(path, skipped), "json": lambda: _json_array(path),
            "csv": lambda: _csv_rows(path), "parquet": lambda: _parquet_rows(path)}[kind]()
    for where, value in rows:
        text = "\n".join(s for s in _strings(value) if s.strip())
        if text:
            yield EvalRecord(str(path), where, text)


def load_eval_sets(paths: list[Path]) -> EvalSets:
    """Read and index evaluation files; InputFileError names a file that cannot be used."""
    sets = EvalSets([str(p) for p in paths], [])
    for path in paths:
        if not path.is_file():
            raise InputFileError(str(path), "no such file. Pass the path of your evaluation set "
                                            "(JSONL, CSV or Parquet) to --decontaminate.")
        try:
            sets.records.extend(_records(path, sets.skipped))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputFileError(str(path), f"cannot be read ({exc}).") from None
    _index(sets)
    return sets


def _index(sets: EvalSets) -> None:
    near_texts: list[str] = []
    for number, record in enumerate(sets.records):
        for text in _views(record.text):
            words = normalise(text).split()
            if len(words) >= NGRAM:
                for i in range(len(words) - NGRAM + 1):
                    sets.ngrams.setdefault(" ".join(words[i:i + NGRAM]), number)
            elif len(words) >= MIN_WORDS:
                sets.whole.setdefault(len(words), {}).setdefault(" ".join(words), number)
            if len(words) >= MIN_WORDS:
                near_texts.append(text)
                sets.near_records.append(number)
    sets.near = CrossIndex(near_texts, NEAR_DUPLICATE)


def _views(text: str) -> list[str]:
    """A record as a whole, and each of its lines (fields) on their own when it has several."""
    lines = [line for line in text.split("\n") if line.strip()]
    return [text] + (lines if len(lines) > 1 else [])


# ---------------------------------------------------------------- checking

def _ngram_hit(words: list[str], sets: EvalSets) -> tuple[int, str] | None:
    for i in range(len(words) - NGRAM + 1):
        gram = " ".join(words[i:i + NGRAM])
        if gram in sets.ngrams:
            return sets.ngrams[gram], gram
    for length, texts in sets.whole.items():
        for i in range(len(words) - length + 1):
            gram = " ".join(words[i:i + length])
            if gram in texts:
                return texts[gram], gram
    return None


def find_hits(examples: list[Example], sets: EvalSets) -> list[tuple[Example, str]]:
    """(example, explanation) for every example that overlaps an evaluation record."""
    hits: dict[int, tuple[Example, str]] = {}
    for n, example in enumerate(examples):
        found = _ngram_hit(normalise(example.text).split(), sets)
        if found:
            record = sets.records[found[0]]
            hits[n] = (example, f"{NGRAM if len(found[1].split()) >= NGRAM else len(found[1].split())}"
                                f"-word overlap with {_name(record)}: {preview(found[1], SHOWN_CHARS)!r}")
    views = [v for e in examples for v in (e.text, e.question, e.answer)]
    near = sets.near.matches(views) if sets.near is not None and examples else []
    for index, matches in enumerate(near):
        n = index // 3
        if n in hits or not matches:
            continue
        row, similarity = max(matches, key=lambda m: m[1])
        record = sets.records[sets.near_records[row]]
        hits[n] = (examples[n], f"near duplicate (Jaccard {similarity:.2f}) of {_name(record)}: "
                                f"{preview(record.text, SHOWN_CHARS)!r}")
    return [hits[n] for n in sorted(hits)]


def _name(record: EvalRecord) -> str:
    return f"{Path(record.file).name} {record.where}"


def mark_contaminated(examples: list[Example], sets: EvalSets | None) -> int:
    """Reject every example that overlaps the evaluation sets; returns how many."""
    if sets is None:
        return 0
    checked = [e for e in examples if e.answer.strip()]
    found = find_hits(checked, sets)
    for example, explanation in found:
        if "contaminated" not in example.reasons:
            example.reasons.append("contaminated")
        example.notes.append(f"contaminated: {explanation}")
    return len(found)


def check_file(path: Path, eval_paths: list[Path]) -> dict:
    """`validate FILE --decontaminate EVAL...`: every record of a JSONL dataset checked."""
    examples, malformed = read_examples(Path(path))
    sets = load_eval_sets(eval_paths)
    hits = find_hits(examples, sets)
    return {"eval_files": sets.files, "eval_records": len(sets.records), "eval_skipped": sets.skipped,
            "checked": len(examples), "unreadable_lines": len(malformed), "contaminated": len(hits),
            "hits": [{"location": e.location, "question": preview(e.question, SHOWN_CHARS),
                      "match": why} for e, why in hits]}
