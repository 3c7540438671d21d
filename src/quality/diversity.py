"""How varied a dataset is, and how much of its sources it covers; low values flagged with advice.

Measured on the accepted samples (a seeded sample of at most SAMPLE_LIMIT, so figures compare
across dataset sizes, as text-diversity measures depend on the amount of text):

- compression ratio: raw bytes / zlib-compressed bytes of the questions (answers) joined; text that
  repeats itself compresses more (Shaib et al., "Standardizing the Measurement of Text Diversity").
- repeated n-gram share: of all word 4-grams, the share that also occurs in another sample.
- self-similarity: mean Jaccard similarity of the content words of two samples, over the pairs of
  at most PAIRS_LIMIT samples (1 = all alike, 0 = nothing shared).
- the mix of question types and personas: counts, the largest share, and evenness (Shannon entropy
  over its maximum; 1 = perfectly even).
- coverage of each source: the share of its chunks (sections) that yielded an accepted sample.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import Counter, defaultdict
from itertools import combinations

from src.models import CoverageRow, Example
from src.quality.facts import content_words, tokenize
from src.utils.text import preview

SAMPLE_LIMIT = 2000
PAIRS_LIMIT = 300
NGRAM = 4
SEED = 13
# limits beyond which a figure is flagged (calibrated on the demo documents and real FAQ pages)
MAX_COMPRESSION = {"questions": 3.5, "answers": 3.5}
MAX_REPEATED = {"questions": 0.5, "answers": 0.5}
MAX_SELF_SIMILARITY = {"questions": 0.25, "answers": 0.25}
MAX_TOP_SHARE = 0.6  # one question type or persona
MIN_COVERAGE = 0.5  # share of a source's chunks with an accepted sample
ADVICE = {
    "questions": "raise agent.create.variety (high), add personas and question types, or raise "
                 "agent.create.temperature",
    "answers": "use longer or more varied chunks (chunking.chunk_tokens), and make sure the input "
               "files are not near copies of each other",
    "question_type": "add question types to agent.create.question_types",
    "persona": "add personas to agent.create.personas",
    "coverage": "raise dataset_size, or lower agent.create.questions_per_chunk so more chunks are "
                "used; check the unused parts hold real content",
}


def _sample(examples: list[Example]) -> list[Example]:
    if len(examples) <= SAMPLE_LIMIT:
        return examples
    return random.Random(SEED).sample(examples, SAMPLE_LIMIT)


def compression_ratio(texts: list[str]) -> float | None:
    raw = "\n".join(texts).encode("utf-8")
    return round(len(raw) / len(zlib.compress(raw, 9)), 3) if raw else None


def repeated_ngram_share(texts: list[str]) -> float | None:
    """Share of word 4-grams (occurrences) that also occur in another text."""
    grams = [{tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}
             for words in (tokenize(t) for t in texts)]
    owners = Counter(g for text_grams in grams for g in text_grams)
    total = sum(len(g) for g in grams)
    return round(sum(owners[g] > 1 for text_grams in grams for g in text_grams) / total, 4) if total else None


def self_similarity(texts: list[str]) -> float | None:
    """Mean Jaccard similarity of content words over the pairs of at most PAIRS_LIMIT texts."""
    chosen = texts if len(texts) <= PAIRS_LIMIT else random.Random(SEED).sample(texts, PAIRS_LIMIT)
    sets = [content_words(tokenize(t)) for t in chosen]
    pairs = [(a, b) for a, b in combinations(sets, 2) if a or b]
    return round(sum(len(a & b) / len(a | b) for a, b in pairs) / len(pairs), 4) if pairs else None


def mix(values: list[str]) -> dict:
    """Counts of a label, its largest share and evenness (normalised Shannon entropy)."""
    counts = Counter(v or "(none)" for v in values)
    total = sum(counts.values())
    if not total:
        return {"counts": {}, "top_share": None, "evenness": None}
    entropy = -sum(c / total * math.log(c / total) for c in counts.values())
    evenness = entropy / math.log(len(counts)) if len(counts) > 1 else None
    return {"counts": dict(counts.most_common()), "top_share": round(max(counts.values()) / total, 4),
            "evenness": round(evenness, 4) if evenness is not None else None}


def source_coverage(rows: list[CoverageRow]) -> dict[str, dict]:
    """Per source file: chunks (sections), those with an accepted sample, and their share."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        per[row.source_file or "(none)"][0] += 1
        per[row.source_file or "(none)"][1] += row.accepted > 0
    return {source: {"chunks": chunks, "chunks_accepted": used,
                     "share": round(used / chunks, 4) if chunks else None}
            for source, (chunks, used) in sorted(per.items())}


def _text_figures(texts: list[str]) -> dict:
    return {"compression_ratio": compression_ratio(texts),
            "repeated_ngram_share": repeated_ngram_share(texts),
            "self_similarity": self_similarity(texts)}


def _flags(report: dict) -> list[dict]:
    flags = []
    for part in ("questions", "answers"):
        figures = report[part]
        for name, limits in (("compression_ratio", MAX_COMPRESSION), ("repeated_ngram_share", MAX_REPEATED),
                             ("self_similarity", MAX_SELF_SIMILARITY)):
            value = figures[name]
            if value is not None and value > limits[part]:
                flags.append({"metric": f"{part}.{name}", "value": value, "limit": limits[part],
                              "advice": f"{part} repeat each other: {ADVICE[part]}"})
    for label in ("question_type", "persona"):
        share = report[label]["top_share"]
        if share is not None and share > MAX_TOP_SHARE and len(report[label]["counts"]) > 1:
            top = next(iter(report[label]["counts"]))
            flags.append({"metric": f"{label}.top_share", "value": share, "limit": MAX_TOP_SHARE,
                          "advice": f"{share:.0%} of samples share the {label} {top!r}: "
                                    f"{ADVICE[label]}"})
    for source, cov in report["coverage"].items():
        if cov["share"] is not None and cov["share"] < MIN_COVERAGE:
            flags.append({"metric": "coverage", "value": cov["share"], "limit": MIN_COVERAGE,
                          "advice": f"only {cov['chunks_accepted']} of {cov['chunks']} sections of "
                                    f"{preview(source, 60)} have an accepted sample: {ADVICE['coverage']}"})
    return flags


def diversity(examples: list[Example], coverage: list[CoverageRow]) -> dict:
    """The diversity and coverage figures of a dataset's accepted samples, with flags."""
    accepted = [e for e in examples if not e.reasons]
    chosen = _sample(accepted)
    synthetic = [e for e in accepted if e.origin != "extracted"]
    report = {"measured_on": len(chosen), "accepted": len(accepted),
              "questions": _text_figures([e.question for e in chosen]),
              "answers": _text_figures([e.answer for e in chosen]),
              "question_type": mix([e.question_type for e in synthetic or accepted]),
              "persona": mix([e.persona for e in synthetic]),
              "coverage": source_coverage(coverage)}
    report["flags"] = _flags(report)
    return report
