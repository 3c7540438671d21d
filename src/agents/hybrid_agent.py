"""Hybrid mode: identified (verbatim) conversations plus created ones, in `generation_ratio`.

Identify runs first. The created half then avoids what the documents already answer: each chunk's
step-1 prompt lists the extracted questions from the same file, and the dedup stage drops any
near-duplicate that still slips through (across both halves).
"""

from __future__ import annotations

from src.agents.create_agent import Slot
from src.models import Example


def hybrid_targets(size: int, generation_ratio: float) -> tuple[int, int]:
    """(samples to create, samples to identify) for a dataset of `size`."""
    create = round(size * generation_ratio)
    return create, size - create


def with_avoid_lists(slots: list[Slot], extracted: list[Example]) -> list[Slot]:
    """Attach to each slot the questions already extracted from the same source file."""
    by_file: dict[str, list[str]] = {}
    for example in extracted:
        by_file.setdefault(example.source_file, []).append(example.question)
    return [Slot(s.chunk, s.pass_no, tuple(by_file.get(s.chunk.source_file, ()))) for s in slots]
