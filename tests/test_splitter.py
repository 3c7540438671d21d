"""Train/validation split: ratios, random and weighted strategies, small groups, leakage."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from src.errors import UsageError
from src.export.splitter import distribution, format_distribution, split
from src.models import Example, Turn

WORDS = ("tuition scholarship visa hostel exam campus deadline transcript embassy rupee "
         "semester faculty library admission interview passport medical insurance").split()


def make_examples(sizes: dict[str, int], seed: int = 0, by: str = "source") -> list[Example]:
    """Distinct random-word conversations; group sizes by source file (or first keyword)."""
    rng = random.Random(seed)
    examples = []
    for group, size in sizes.items():
        for i in range(size):
            words = " ".join(rng.choice(WORDS) for _ in range(25))
            ex = Example(turns=[Turn("user", f"{group} {i} {words}?"),
                                Turn("assistant", f"{words} {i} {rng.random()}")])
            if by == "source":
                ex.source_file, ex.topic_keywords = group, ["misc"]
            else:
                ex.source_file, ex.topic_keywords = "one.pdf", [group, "other"]
            examples.append(ex)
    return examples


def test_no_split_puts_everything_in_one_unsplit_file() -> None:
    examples = make_examples({"a.pdf": 7})
    result = split(examples, None, "random", "source", 1)
    assert result.train == examples and result.validation == []
    assert {ex.split for ex in examples} == {""}
    assert result.distribution["source"] == {"a.pdf": {"train": 0, "validation": 0, "unsplit": 7}}


@pytest.mark.parametrize(("ratio", "validation"), [(0.9, 10), (0.8, 20), (0.7, 30), (0.75, 25)])
def test_random_split_ratios(ratio: float, validation: int) -> None:
    examples = make_examples({"a.pdf": 60, "b.pdf": 40})
    result = split(examples, ratio, "random", "source", 3)
    assert len(result.validation) == validation
    assert len(result.train) == 100 - validation
    assert {id(e) for e in result.train} | {id(e) for e in result.validation} == \
        {id(e) for e in examples}
    assert all(e.split == "train" for e in result.train)
    assert all(e.split == "validation" for e in result.validation)


def test_same_seed_same_split_other_seed_other_split() -> None:
    def validation_ids(seed: int, strategy: str) -> list[str]:
        examples = make_examples({"a.pdf": 30, "b.pdf": 20})
        for i, ex in enumerate(examples):
            ex.id = f"s{i}"
        return [e.id for e in split(examples, 0.8, strategy, "source", seed).validation]

    for strategy in ("random", "weighted"):
        assert validation_ids(7, strategy) == validation_ids(7, strategy)
        assert validation_ids(7, strategy) != validation_ids(8, strategy)


def test_weighted_by_source_keeps_uneven_groups_in_proportion() -> None:
    sizes = {"big.pdf": 53, "mid.docx": 31, "small.csv": 11, "tiny.md": 5}
    examples = make_examples(sizes)
    result = split(examples, 0.8, "weighted", "source", 42)
    dist = result.distribution["source"]
    assert len(result.validation) == round(sum(sizes.values()) * 0.2)
    for group, size in sizes.items():
        assert dist[group]["train"] >= 1 and dist[group]["validation"] >= 1
        assert dist[group]["train"] + dist[group]["validation"] == size
        assert abs(dist[group]["validation"] - size * 0.2) < 1
    assert not any("too small" in n for n in result.notes)


def test_weighted_by_keyword_uses_the_first_keyword() -> None:
    examples = make_examples({"Visa": 20, "fees": 10}, by="keywords")
    result = split(examples, 0.7, "weighted", "keywords", 5)
    dist = result.distribution["keyword"]
    assert dist == {"fees": {"train": 7, "validation": 3}, "visa": {"train": 14, "validation": 6}}
    assert result.distribution["source"] == {"one.pdf": {"train": 21, "validation": 9}}


def test_groups_too_small_to_split_are_pooled_and_reported() -> None:
    sizes = {"big.pdf": 40, "one.txt": 1, "two.txt": 2, "three.txt": 3}
    examples = make_examples(sizes)
    result = split(examples, 0.9, "weighted", "source", 11)
    note = next(n for n in result.notes if "too small" in n)
    assert "3 group(s)" in note and "one.txt" in note and "(6 samples)" in note
    dist = result.distribution["source"]
    assert dist["big.pdf"] == {"train": 36, "validation": 4}
    pooled_validation = sum(dist[g]["validation"] for g in ("one.txt", "two.txt", "three.txt"))
    assert pooled_validation == 1  # 6 pooled samples at 10% -> round(0.6) = 1
    assert len(result.train) + len(result.validation) == 46


def test_many_small_groups_keep_both_sides_and_say_the_ratio_moved() -> None:
    examples = make_examples({f"f{i}.pdf": 7 for i in range(10)})
    result = split(examples, 0.9, "weighted", "source", 2)
    assert all(c["validation"] == 1 for c in result.distribution["source"].values())
    assert any("instead of 10%" in n for n in result.notes)  # 10 of 70 is 14.3%


def test_a_single_sample_goes_to_train() -> None:
    examples = make_examples({"a.pdf": 1})
    result = split(examples, 0.9, "random", "source", 1)
    assert len(result.train) == 1 and result.validation == []
    assert any("only 1 sample" in n for n in result.notes)


def test_near_duplicates_across_splits_are_moved_to_train() -> None:
    examples = make_examples({"a.pdf": 40})
    twin_text = examples[0].turns[1].content
    for ex in examples[1:6]:  # five near-copies of the first sample
        ex.turns = [Turn("user", examples[0].turns[0].content), Turn("assistant", twin_text + "!")]
    result = split(examples, 0.5, "random", "source", 4)
    group = examples[:6]
    assert all(ex.split == "train" for ex in group)
    assert result.leakage_moved >= 1
    assert any("moved to train" in n for n in result.notes)
    assert len(result.train) + len(result.validation) == 40


def test_metadata_stays_with_each_sample() -> None:
    examples = make_examples({"a.pdf": 10, "b.pdf": 10})
    before = [(ex.id, ex.source_file, tuple(ex.topic_keywords)) for ex in examples]
    result = split(examples, 0.8, "weighted", "source", 9)
    after = sorted((ex.id, ex.source_file, tuple(ex.topic_keywords))
                   for ex in result.train + result.validation)
    assert after == sorted(before)


@pytest.mark.parametrize(("args", "message"), [
    ((1.0, "random", "source"), "between 0 and 1"),
    ((0.0, "random", "source"), "between 0 and 1"),
    ((0.8, "stratified", "source"), "strategy"),
    ((0.8, "weighted", "author"), "weight_by"),
])
def test_bad_arguments_are_refused(args: tuple, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        split(make_examples({"a.pdf": 3}), *args, seed=1)


def test_distribution_and_its_text_table() -> None:
    examples = make_examples({"a.pdf": 10, "b.pdf": 5})
    result = split(examples, 0.8, "weighted", "source", 1)
    counts = Counter((e.source_file, e.split) for e in examples)
    assert distribution(examples)["source"]["a.pdf"] == {
        "train": counts[("a.pdf", "train")], "validation": counts[("a.pdf", "validation")]}
    text = format_distribution(result)
    assert text.splitlines()[0].split() == ["source", "train", "validation"]
    assert "a.pdf" in text and "b.pdf" in text
