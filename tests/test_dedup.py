"""Exact and near-duplicate removal, across modes and against stored samples."""

from __future__ import annotations

from src.models import Example, Turn
from src.quality import dedup

ANSWER = ("The tuition fee for B.Tech Computer Science at Sharda University is 120000 rupees per "
          "year, and students with an HSC GPA of 5.0 receive a fifty percent scholarship on tuition. "
          "Apply for the student visa at the Indian High Commission in Dhaka after admission.")


def sample(answer: str, question: str = "What does B.Tech cost at Sharda University?",
           overall: float = 0.8, mode: str = "create") -> Example:
    return Example(turns=[Turn("user", question), Turn("assistant", answer)], mode=mode,
                   scores={"overall": overall})


def test_exact_duplicate_up_to_case_and_punctuation_keeps_the_higher_scoring() -> None:
    low = sample(ANSWER, overall=0.72)
    high = sample(ANSWER.upper().replace(",", ""), overall=0.91)
    other = sample("Halal food is served in two hostel messes and the campus has a mosque.",
                   question="Is there halal food?")
    kept, dropped = dedup.deduplicate([low, high, other], threshold=0.8)
    assert kept == [high, other]
    assert dropped == [low]
    assert low.reasons == ["duplicate"]
    assert f"duplicate of {high.id}" in low.notes
    assert high.reasons == [] and other.reasons == []


def test_near_duplicate_with_small_edits_is_dropped() -> None:
    edited = ANSWER.replace("receive", "get").replace("after admission", "after your admission")
    first, second = sample(ANSWER, overall=0.9), sample(edited, overall=0.8)
    kept, dropped = dedup.deduplicate([second, first], threshold=0.8)
    assert kept == [first] and dropped == [second]


def test_different_samples_on_the_same_topic_are_kept() -> None:
    a = sample(ANSWER)
    b = sample("Applicants need SSC and HSC results with a minimum GPA of 4.0 in each, and the "
               "deadline is 30 June 2025 for the autumn intake.", question="What are the requirements?")
    kept, dropped = dedup.deduplicate([a, b], threshold=0.8)
    assert kept == [a, b] and dropped == []


def test_duplicates_across_modes_are_found() -> None:
    extracted = sample(ANSWER, mode="identify", overall=0.95)
    created = sample(ANSWER + " Good luck!", mode="create", overall=0.85)
    kept, dropped = dedup.deduplicate([created, extracted], threshold=0.8)
    assert kept == [extracted] and dropped == [created]


def test_accepted_sample_is_kept_over_a_higher_scoring_rejected_one() -> None:
    rejected = sample(ANSWER, overall=0.99)
    rejected.reasons.append("hallucinated_figures")
    accepted = sample(ANSWER, overall=0.75)
    kept, dropped = dedup.deduplicate([rejected, accepted], threshold=0.8)
    assert kept == [accepted]
    assert rejected.reasons == ["hallucinated_figures", "duplicate"]


def test_samples_already_stored_are_never_displaced() -> None:
    stored = sample(ANSWER, overall=0.7)
    new = sample(ANSWER.replace("receive", "get"), overall=0.99)
    fresh = sample("The campus has a mosque for prayer.", question="Prayer?")
    kept, dropped = dedup.deduplicate([new, fresh], threshold=0.8, existing=[stored])
    assert kept == [fresh] and dropped == [new]
    assert f"duplicate of {stored.id}" in new.notes
    assert stored.reasons == []


def test_resubmitting_a_stored_sample_is_not_a_duplicate_of_itself() -> None:
    stored = sample(ANSWER)
    kept, dropped = dedup.deduplicate([stored], threshold=0.8, existing=[stored])
    assert kept == [stored] and dropped == []


def test_cross_duplicates_between_two_lists() -> None:
    train = [ANSWER, "Halal food is served in two hostel messes.", "The library opens at 8 am daily."]
    validation = ["Visa appointments are booked online through the portal of the mission.",
                  ANSWER.replace("receive", "get"), "halal food is served in two hostel messes"]
    assert dedup.find_cross_duplicates(train, validation, 0.8) == [(0, 1), (1, 2)]
    assert dedup.find_cross_duplicates(train, [], 0.8) == []


def test_many_samples_with_a_few_duplicates() -> None:
    base = [sample(f"Sample {i} says the fee for programme {i} is {1000 + i * 7} rupees "
                   f"and the seats number {i * 3} in intake {i % 5}.", question=f"Question {i}?")
            for i in range(2000)]
    copies = [sample(base[i].answer, question=base[i].question, overall=0.5) for i in (5, 50, 500)]
    kept, dropped = dedup.deduplicate(base + copies, threshold=0.9)
    assert dropped == copies
    assert len(kept) == 2000


def test_signatures_and_bands_are_datasketchs() -> None:
    """Our MinHash is datasketch's (2.0, affine32, seed 1) without importing it at run time
    (its package loads scipy): same signatures, same choice of bands and rows."""
    import random
    import zlib

    from datasketch import MinHash, MinHashLSH  # the reference (requirements-dev.txt)

    rng = random.Random(3)
    for _ in range(100):
        shingles = [bytes(rng.choice(b"abcdefgh ") for _ in range(rng.randint(1, 12)))
                    for _ in range(rng.randint(0, 60))]
        reference = MinHash(num_perm=dedup.NUM_PERM, hashfunc=zlib.crc32)
        reference.update_batch(shingles)
        ours = dedup.signature(shingles)
        assert ours.dtype == reference.hashvalues.dtype and (ours == reference.hashvalues).all()
    for threshold in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9):
        index = MinHashLSH(threshold=threshold, num_perm=dedup.NUM_PERM, weights=dedup.LSH_WEIGHTS)
        assert dedup.optimal_bands(threshold) == (index.b, index.r)
