"""Train/validation split: none, random (seeded) or weighted by source file or first topic keyword.

Weighted: every group big enough is split in proportion, so each source (or keyword) appears in
both splits; the validation count is allocated across groups by largest remainder so the overall
ratio stays close to the one asked for. Groups too small to give one sample to each side are pooled
and split at random together, and named in the notes. Afterwards a contamination check moves
validation samples that nearly duplicate a training sample into train.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from src.config import SPLIT_STRATEGIES, SPLIT_WEIGHT_BY, QualityConfig
from src.errors import UsageError
from src.models import Example
from src.quality.dedup import find_cross_duplicates

STRATEGIES = SPLIT_STRATEGIES  # the config's choices, checked again for direct callers
WEIGHT_BY = SPLIT_WEIGHT_BY
DEFAULT_LEAK_THRESHOLD = QualityConfig.near_duplicate_threshold  # the config's default
NO_GROUP = "(none)"
RATIO_DRIFT_NOTE = 0.02  # mention the achieved ratio when it is this far from the one asked for


@dataclass
class SplitResult:
    """Both sides of a split, the per-group counts in each, and what the splitter had to decide."""

    train: list[Example]
    validation: list[Example]
    distribution: dict[str, dict[str, dict[str, int]]]  # {"source"|"keyword": {group: {split: n}}}
    notes: list[str] = field(default_factory=list)
    leakage_moved: int = 0
    ratio: float | None = None
    strategy: str = ""

    def report(self) -> dict:
        """Plain data to store with the dataset and show in stats."""
        return {"ratio": self.ratio, "strategy": self.strategy, "train": len(self.train),
                "validation": len(self.validation), "leakage_moved": self.leakage_moved,
                "notes": self.notes, "distribution": self.distribution}


def split(examples: list[Example], ratio: float | None, strategy: str = "random",
          weight_by: str = "source", seed: int = 42,
          leak_threshold: float = DEFAULT_LEAK_THRESHOLD) -> SplitResult:
    """Split examples (setting each `.split`); ratio is the train share, None means no split."""
    if ratio is None:
        for ex in examples:
            ex.split = ""
        return SplitResult(list(examples), [], distribution(examples),
                           ["no split: every sample is in one file"], strategy="none")
    _check_arguments(ratio, strategy, weight_by)
    rng = random.Random(seed)
    notes: list[str] = []
    indexes = list(range(len(examples)))
    if strategy == "random":
        chosen = _random_validation(indexes, ratio, rng)
        why = "the split is rounded to whole samples"
    else:
        groups = _group(examples, weight_by)
        chosen = _weighted_validation(groups, ratio, rng, notes)
        why = ("every group was too small to split in proportion, so all were pooled and split "
               "at random" if not any(_splittable(len(v), ratio) for v in groups.values())
               else "each group large enough was kept in both splits")
    for i, ex in enumerate(examples):
        ex.split = "validation" if i in chosen else "train"
    moved = _move_leaks(examples, leak_threshold, notes)
    train = [ex for ex in examples if ex.split == "train"]
    validation = [ex for ex in examples if ex.split == "validation"]
    _note_ratio(len(validation), len(examples), ratio, notes, why + (
        " and near-duplicates were moved to train" if moved else ""))
    return SplitResult(train, validation, distribution(examples), notes, moved, ratio, strategy)


def _check_arguments(ratio: float, strategy: str, weight_by: str) -> None:
    if not 0 < ratio < 1:
        raise UsageError(f"split ratio must be between 0 and 1 (the train share, e.g. 0.9 for "
                         f"90/10), got {ratio}")
    if strategy not in STRATEGIES:
        raise UsageError(f"split strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if weight_by not in WEIGHT_BY:
        raise UsageError(f"split weight_by must be one of {', '.join(WEIGHT_BY)}, "
                         f"got {weight_by!r}")


def _round(x: float) -> int:
    """Round half up (Python's round() sends 0.5 to 0), ignoring float noise."""
    return int(math.floor(round(x, 9) + 0.5))


def _validation_count(n: int, ratio: float) -> int:
    """How many of n go to validation: the rounded share, at least one each side when n >= 2."""
    if n < 2:
        return 0
    return min(max(_round(n * (1 - ratio)), 1), n - 1)


def _random_validation(indexes: list[int], ratio: float, rng: random.Random) -> set[int]:
    shuffled = indexes[:]
    rng.shuffle(shuffled)
    return set(shuffled[:_validation_count(len(indexes), ratio)])


def group_key(ex: Example, by: str) -> str:
    """The group an example belongs to: its source file, or its first topic keyword."""
    if by == "source":
        return ex.source_file or NO_GROUP
    return ex.topic_keywords[0].strip().lower() if ex.topic_keywords else NO_GROUP


def _group(examples: list[Example], weight_by: str) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[group_key(ex, weight_by)].append(i)
    return dict(groups)


def _splittable(size: int, ratio: float) -> bool:
    """A group can be split in proportion when rounding gives each side at least one sample."""
    share = _round(size * (1 - ratio))
    return share >= 1 and size - share >= 1


def _weighted_validation(groups: dict[str, list[int]], ratio: float, rng: random.Random,
                         notes: list[str]) -> set[int]:
    big = {k: v for k, v in sorted(groups.items()) if _splittable(len(v), ratio)}
    small = {k: v for k, v in sorted(groups.items()) if k not in big}
    counts = _allocate({k: len(v) for k, v in big.items()}, 1 - ratio)
    chosen: set[int] = set()
    for key, members in big.items():
        shuffled = members[:]
        rng.shuffle(shuffled)
        chosen.update(shuffled[:counts[key]])
    if small:
        pool = [i for members in small.values() for i in members]
        picked = _random_validation(pool, ratio, rng)
        chosen |= picked
        names = ", ".join(list(small)[:5]) + (", ..." if len(small) > 5 else "")
        notes.append(f"{len(small)} group(s) too small to split in proportion ({names}) were "
                     f"pooled ({len(pool)} samples) and split at random: {len(picked)} to "
                     "validation")
    return chosen


def _allocate(sizes: dict[str, int], share: float) -> dict[str, int]:
    """Validation count per group: floor of its share (at least 1), remainders to the largest."""
    quotas = {k: round(n * share, 9) for k, n in sizes.items()}  # 5 * (1 - 0.8) is 0.999...
    target = _round(sum(sizes.values()) * share)
    counts = {k: min(max(math.floor(q), 1), sizes[k] - 1) for k, q in quotas.items()}
    for key in sorted(quotas, key=lambda k: (-(quotas[k] - math.floor(quotas[k])), k)):
        if sum(counts.values()) >= target:
            break
        if counts[key] < sizes[key] - 1:
            counts[key] += 1
    return counts


def _move_leaks(examples: list[Example], threshold: float, notes: list[str]) -> int:
    """Move validation samples that nearly duplicate a training sample into train; how many."""
    train = [ex for ex in examples if ex.split == "train"]
    validation = [ex for ex in examples if ex.split == "validation"]
    if not train or not validation:
        return 0
    pairs = find_cross_duplicates([e.text for e in train], [e.text for e in validation],
                                  threshold)
    leaked = {j for _, j in pairs}
    for j in leaked:
        validation[j].split = "train"
    if leaked:
        notes.append(f"contamination check: {len(leaked)} validation sample(s) nearly duplicated "
                     f"a training sample (similarity >= {threshold:g}) and were moved to train")
    return len(leaked)


def _note_ratio(n_validation: int, n: int, ratio: float, notes: list[str], why: str) -> None:
    if n < 2:
        notes.append(f"only {n} sample(s): nothing to put in validation, all in train")
        return
    achieved = n_validation / n
    if abs(achieved - (1 - ratio)) > RATIO_DRIFT_NOTE:
        notes.append(f"validation holds {n_validation} of {n} samples ({achieved:.1%}) instead of "
                     f"{1 - ratio:.0%}: {why}")


def distribution(examples: list[Example]) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per source file and per first keyword in each split ('' counts as 'unsplit')."""
    result: dict[str, dict[str, dict[str, int]]] = {}
    for by, label in (("source", "source"), ("keywords", "keyword")):
        counts: dict[str, Counter] = defaultdict(Counter)
        for ex in examples:
            counts[group_key(ex, by)][ex.split or "unsplit"] += 1
        result[label] = {k: {"train": c["train"], "validation": c["validation"],
                             **({"unsplit": c["unsplit"]} if c["unsplit"] else {})}
                         for k, c in sorted(counts.items())}
    return result


def format_distribution(result: SplitResult, by: str = "source") -> str:
    """A small text table of one distribution (source or keyword) with the notes under it."""
    rows = result.distribution.get(by, {})
    width = max([len(by)] + [len(k) for k in rows])
    lines = [f"{by.ljust(width)}  {'train':>7}  {'validation':>10}"]
    lines += [f"{k.ljust(width)}  {c['train']:>7}  {c['validation']:>10}" for k, c in rows.items()]
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)
