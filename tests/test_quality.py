"""Quality scores on hand-written grounded and ungrounded answers (SetForge domain)."""

from __future__ import annotations

import pytest

from src.config import DomainProfile, QualityConfig, Thresholds, Weights
from src.models import Example, Turn
from src.quality import facts, scores

SOURCE = (
    "Sharda University in Greater Noida admits Bangladeshi students to B.Tech programmes. Applicants "
    "need SSC and HSC results with a minimum GPA of 4.0 in each. The tuition fee for B.Tech Computer "
    "Science is ₹1,20,000 per year. Students with HSC GPA 5.0 receive a 50% scholarship on tuition. "
    "The application deadline is 30 June 2025. After admission, students apply for a student visa at "
    "the Indian High Commission in Dhaka with the admission letter, passport and bank statement. "
    "The campus has a mosque for prayer, and halal food is served in two hostel messes.")

PROFILE = DomainProfile(
    name="Bangladeshi students choosing Indian universities",
    keywords={"SSC": 1.0, "HSC": 1.0, "equivalence": 0.8, "scholarship": 1.0, "₹": 0.8, "৳": 0.8,
              "fee": 0.6, "visa": 0.8, "embassy": 0.8, "high commission": 0.8, "halal": 1.0,
              "prayer": 0.8},
    entities=["Sharda University", "Amity University", "Galgotias University"])

GROUNDED = ("The tuition fee for B.Tech Computer Science at Sharda University is ₹1,20,000 per year. "
            "Students with an HSC GPA of 5.0 get a 50% scholarship on tuition.")


def sample(answer: str, question: str = "What does B.Tech cost at Sharda University?",
           context: str = SOURCE, origin: str = "synthetic") -> Example:
    return Example(turns=[Turn("user", question), Turn("assistant", answer)], context=context,
                   origin=origin, mode="create")


def scored(answer: str, config: QualityConfig | None = None, **kwargs: str) -> Example:
    return scores.score_example(sample(answer, **kwargs), config or QualityConfig(domain=PROFILE))


def test_grounded_detailed_answer_is_accepted_with_explained_scores() -> None:
    ex = scored(GROUNDED)
    assert ex.reasons == []
    assert set(ex.scores) >= {"extractive", "detail", "domain", "overall"}
    assert ex.scores["extractive"] >= 0.6 and ex.scores["detail"] >= 0.6
    assert ex.scores["domain"] >= 0.7 and ex.scores["overall"] >= 0.7
    assert all(0.0 <= v <= 1.0 for v in ex.scores.values())
    assert any(n.startswith("extractive") for n in ex.notes)
    assert any("overall" in n for n in ex.notes)


def test_paraphrased_visa_steps_stay_grounded() -> None:
    ex = scored("Once admitted, you apply for a student visa at the Indian High Commission in Dhaka. "
                "Bring your admission letter, your passport and a bank statement.",
                question="How do I get an Indian student visa from Bangladesh?")
    assert "hallucinated_figures" not in ex.reasons
    assert "low_extractive" not in ex.reasons
    assert ex.scores["extractive"] >= 0.6


@pytest.mark.parametrize("answer, invented", [
    ("The tuition fee for B.Tech Computer Science is ₹2,50,000 per year.", "2,50,000"),
    ("The application deadline for B.Tech at Sharda University is 15 August 2025.", "August"),
    ("Students with HSC GPA 5.0 receive a 75% scholarship on tuition.", "75"),
    ("Amity University in Greater Noida admits Bangladeshi students to B.Tech programmes.", "Amity"),
    ("The tuition fee for B.Tech Computer Science is $1,20,000 per year.", "USD"),
])
def test_an_invented_figure_or_name_is_always_rejected(answer: str, invented: str) -> None:
    ex = scored(answer)
    assert ex.reasons[0] == "hallucinated_figures"
    assert any(invented in n for n in ex.notes if n.startswith("hallucinated"))


def test_invented_fee_is_rejected_even_when_overlap_is_high() -> None:
    ex = scored("The tuition fee for B.Tech Computer Science is ₹1,30,000 per year.")
    assert ex.scores["extractive"] >= 0.8
    assert "hallucinated_figures" in ex.reasons


def test_figures_match_across_digit_scripts_separators_and_lakh() -> None:
    bengali_source = "বি.টেক ফি প্রতি বছর ১,২০,০০০ রুপি। The fee is listed in rupees."
    assert facts.unsupported_facts("The fee is 120000 rupees.", bengali_source) == []
    assert facts.unsupported_facts("It is about 1.2 lakh rupees a year.", SOURCE) == []
    assert facts.unsupported_facts("The mess serves halal food in 2 hostels.", SOURCE) == []
    assert facts.unsupported_facts("It is about 1.5 lakh rupees a year.", SOURCE) == ["1.5"]


def test_list_numbers_are_not_taken_for_figures() -> None:
    answer = ("1. Get SSC and HSC results with a GPA of 4.0.\n2. Apply before 30 June 2025.\n"
              "3. Apply for a visa at the Indian High Commission in Dhaka.")
    assert facts.unsupported_facts(answer, SOURCE) == []
    assert "steps" in scores.detail_score(answer)[1]


def test_generic_answer_is_low_extractive_missing_details_and_irrelevant() -> None:
    ex = scored("Studying abroad is a wonderful experience that broadens your horizons.",
                question="Any tips for living abroad?")
    assert {"low_extractive", "missing_details", "irrelevant"} <= set(ex.reasons)
    assert ex.scores["extractive"] < 0.3


def test_non_answer_is_no_answer_in_context() -> None:
    ex = scored("The context does not mention the hostel fee.", question="What is the hostel fee?")
    assert "no_answer_in_context" in ex.reasons


def test_off_domain_grounded_answer_is_poor_domain_focus() -> None:
    library = "The central library opens at 8 am and closes at 10 pm on weekdays, with 40 reading rooms."
    ex = scored("The central library opens at 8 am and closes at 10 pm on weekdays.",
                question="When is the library open?", context=library)
    assert "poor_domain_focus" in ex.reasons
    assert not {"hallucinated_figures", "low_extractive", "irrelevant"} & set(ex.reasons)
    assert ex.scores["domain"] < 0.7


def test_without_a_profile_domain_is_neutral_and_left_out_of_overall() -> None:
    config = QualityConfig()
    ex = scored(GROUNDED, config)
    assert ex.scores["domain"] == scores.NEUTRAL_DOMAIN
    assert "poor_domain_focus" not in ex.reasons
    expected = (0.4 * ex.scores["extractive"] + 0.3 * ex.scores["detail"]) / 0.7
    assert ex.scores["overall"] == pytest.approx(expected, abs=1e-3)


def test_weights_from_config_are_normalised() -> None:
    heavy = QualityConfig(domain=PROFILE, weights=Weights(extractive=1.0, detail=0.0, domain=0.0))
    ex = scored("Students with HSC GPA 5.0 receive a 50% scholarship on tuition.", heavy)
    assert ex.scores["overall"] == pytest.approx(ex.scores["extractive"], abs=1e-3)


def test_low_overall_with_every_sub_score_passing_blames_the_weakest() -> None:
    strict = QualityConfig(domain=PROFILE, thresholds=Thresholds(overall=0.99, extractive=0.0,
                                                                 detail=0.0, domain=0.0))
    ex = scored(GROUNDED, strict)
    assert len(ex.reasons) == 1 and ex.reasons[0] in {"low_extractive", "missing_details",
                                                      "poor_domain_focus"}


def test_extracted_examples_are_scored_but_never_changed() -> None:
    answer = "Yes. The campus has a mosque for prayer."
    ex = sample(answer, question="Is there a mosque?", context="", origin="extracted")
    scores.score_example(ex, QualityConfig(domain=PROFILE))
    assert ex.answer == answer and ex.question == "Is there a mosque?"
    assert ex.scores["extractive"] == 1.0
    assert "missing_details" in ex.reasons  # scored like any other sample


def test_no_source_text_is_noted_and_not_weighted() -> None:
    ex = scored(GROUNDED, QualityConfig(), context="")
    assert any("no source" in n for n in ex.notes)
    assert "hallucinated_figures" not in ex.reasons
    assert ex.scores["overall"] == pytest.approx(ex.scores["detail"], abs=1e-3)


def test_answer_in_another_language_than_its_source_is_rejected() -> None:
    bengali = "শারদা বিশ্ববিদ্যালয়ে বি.টেক এর টিউশন ফি প্রতি বছর ১,২০,০০০ রুপি এবং বৃত্তি পাওয়া যায়।"
    ex = scored(bengali, question="শারদা বিশ্ববিদ্যালয়ে ফি কত?")
    assert "language_mismatch" in ex.reasons
    target_bn = QualityConfig(domain=PROFILE, target_language="bn")
    assert "language_mismatch" not in scored(bengali, target_bn, question="ফি কত টাকা?").reasons


def test_disabled_quality_scores_but_rejects_nothing() -> None:
    ex = scored("The fee is ₹9,99,999.", QualityConfig(domain=PROFILE, enabled=False))
    assert ex.reasons == [] and "overall" in ex.scores
    assert any(n.startswith("hallucinated") for n in ex.notes)


def test_rescoring_keeps_other_reasons_and_does_not_repeat_its_own() -> None:
    ex = sample("The fee is ₹9,99,999.")
    ex.reasons.append("over_token_limit")
    ex.notes.append("token count 9000 > 8192")
    config = QualityConfig(domain=PROFILE)
    scores.score_example(ex, config)
    scores.score_example(ex, config)
    assert ex.reasons.count("hallucinated_figures") == 1
    assert "over_token_limit" in ex.reasons
    assert "token count 9000 > 8192" in ex.notes
    assert sum(n.startswith("extractive") for n in ex.notes) == 1


def test_domain_terms_match_plurals_phrases_and_currency_symbols() -> None:
    terms = scores.domain_terms("Scholarships at Galgotias University; fees in ৳ and the "
                                 "Indian High Commission visa.", PROFILE)
    assert {"scholarship", "galgotias university", "৳", "high commission", "visa"} <= set(terms)
    assert scores.domain_terms("A library with reading rooms.", PROFILE) == []


def test_score_examples_scores_every_example() -> None:
    batch = [sample(GROUNDED), sample("The fee is ₹7,00,000.")]
    assert scores.score_examples(batch, QualityConfig(domain=PROFILE)) is batch
    assert [bool(e.reasons) for e in batch] == [False, True]
