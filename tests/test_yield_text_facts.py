"""What a model wraps an answer in is stripped, the answer itself left alone; and the figure check
tells product names and codes copied from the passage ("Lumo Max4", "IP55", "HX-2210") from
invented ones ("Max5", "IP56") (issue 20)."""

from __future__ import annotations

import pytest

from src.config import QualityConfig
from src.models import Example, Turn
from src.quality import scores
from src.utils.text import strip_quoting

# ------------------------------------------------------------------ strip_quoting


@pytest.mark.parametrize("wrapped, clean", [
    ('"""The fee is 5 euros."""', "The fee is 5 euros."),
    ('"""\nThe fee is 5 euros.\n"""', "The fee is 5 euros."),
    ("'''The fee is 5 euros.'''", "The fee is 5 euros."),
    ("```\nThe fee is 5 euros.\n```", "The fee is 5 euros."),
    ("```markdown\nThe fee is 5 euros.\n```", "The fee is 5 euros."),
    ("```json-ld\nThe fee is 5 euros.\n```", "The fee is 5 euros."),
    ("Q1: How much is the fee?", "How much is the fee?"),
    ("Q: How much is the fee?", "How much is the fee?"),
    ("Question 2: How much is the fee?", "How much is the fee?"),
    ("Answer: The fee is 5 euros.", "The fee is 5 euros."),
    ("answer:   The fee is 5 euros.", "The fee is 5 euros."),
    ("A: The fee is 5 euros.", "The fee is 5 euros."),
    ("“The fee is 5 euros.”", "The fee is 5 euros."),
    ('"The fee is 5 euros."', "The fee is 5 euros."),
    ("«Le tarif est de 5 euros.»", "Le tarif est de 5 euros."),
    ("„Die Gebühr beträgt 5 Euro.“", "Die Gebühr beträgt 5 Euro."),
    ('"""Answer: The fee is 5 euros."""', "The fee is 5 euros."),  # nested: all layers
    ('Answer: """The fee is 5 euros."""', "The fee is 5 euros."),
    ('```\n"The fee is 5 euros."\n```', "The fee is 5 euros."),
    ("   The fee is 5 euros.  ", "The fee is 5 euros."),
])
def test_delimiters_labels_and_enclosing_quotes_are_stripped(wrapped: str, clean: str) -> None:
    assert strip_quoting(wrapped) == clean


@pytest.mark.parametrize("text", [
    'The manual calls it the "Eco" mode.',
    '"Eco" and "Boost" are the two modes.',  # starts and ends with a quote, but two quotations
    "It's the Lumo Max4's dock.",
    "'Tis the season for descaling.",
    "The code block starts with ``` in Markdown and ends the same way, as the guide shows.",
    "Area: 5 m2 per charge.",  # a colon that is not a label
    "Answers: differ by model.",  # not one of the labels
    "A 5 kg bag fits.",
    "Press the button labelled “Start”.",
])
def test_text_that_merely_contains_quotes_or_colons_is_left_alone(text: str) -> None:
    assert strip_quoting(text) == text


@pytest.mark.parametrize("text", [
    '"""Answer: ```md\n“The fee is 5 euros.”\n```"""',
    "Q1: A: Answer: x",
    '"Eco" and "Boost"',
    "```\n```",
    "",
])
def test_stripping_is_idempotent(text: str) -> None:
    once = strip_quoting(text)
    assert strip_quoting(once) == once


def test_nothing_but_a_wrapper_leaves_an_empty_text() -> None:
    assert strip_quoting('""""""') == ""
    assert strip_quoting("Answer: ") == ""  # a label and nothing else: an empty answer
    assert strip_quoting("“”") == ""


# ------------------------------------------------------------------ product names and codes

PASSAGE = (
    "The Lumo Max4 robot vacuum is rated IP55, so it can be used in bathrooms. Its pump, the "
    "HX-2210, moves 40 litres of water per minute. The Lumo Max4 sells for 1,045 euros, and the "
    "smaller Aera Pro2 for 640 euros. Error code E64 on the Lumo Max4 means that the brush is "
    "blocked.")


def scored(answer: str, question: str = "What rating does the Lumo Max4 have?") -> Example:
    ex = Example(turns=[Turn("user", question), Turn("assistant", answer)], context=PASSAGE,
                 origin="synthetic", mode="create")
    return scores.score_example(ex, QualityConfig())


@pytest.mark.parametrize("answer", [
    "The Lumo Max4 robot vacuum is rated IP55, so it can be used in bathrooms.",
    "Its pump, the HX-2210, moves 40 litres of water per minute.",
    "The Lumo Max4 sells for 1,045 euros, and the smaller Aera Pro2 for 640 euros.",
    "Error code E64 on the Lumo Max4 means that the brush is blocked.",
    "The Max4 is rated IP55, so it can be used in bathrooms.",
])
def test_codes_copied_from_the_passage_are_not_flagged(answer: str) -> None:
    ex = scored(answer)
    assert "hallucinated_figures" not in ex.reasons, ex.notes
    assert not any(n.startswith("hallucinated") for n in ex.notes)


@pytest.mark.parametrize("answer, invented", [
    ("The Lumo Max5 robot vacuum is rated IP55, so it can be used in bathrooms.", "Max5"),
    ("The Lumo Max4 robot vacuum is rated IP56, so it can be used in bathrooms.", "IP56"),
    ("The Lumo Max4 sells for 1,045 euros, and the smaller Aera Pro25 for 640 euros.", "Pro25"),
    ("Error code E65 on the Lumo Max4 means that the brush is blocked.", "E65"),
    ("Its pump, the HX-2211, moves 40 litres of water per minute.", "2211"),
])
def test_a_code_not_in_the_passage_is_flagged(answer: str, invented: str) -> None:
    ex = scored(answer)
    assert "hallucinated_figures" in ex.reasons
    flagged = " ".join(n for n in ex.notes if n.startswith("hallucinated"))
    assert invented in flagged, flagged


@pytest.mark.parametrize("answer, invented", [
    ("The Lumo Max4 robot vacuum has 4 side brushes.", "4"),  # the passage says 2
    ("The Lumo Max4 robot vacuum runs at 55 dB.", "55"),  # the passage says 62 dB
])
def test_the_digits_of_a_code_do_not_ground_a_figure(answer: str, invented: str) -> None:
    passage = ("The Lumo Max4 robot vacuum has 2 side brushes. It is rated IP55 and runs at "
               "62 dB at full power.")
    ex = Example(turns=[Turn("user", "How many side brushes does the Lumo Max4 have?"),
                        Turn("assistant", answer)], context=passage, origin="synthetic",
                 mode="create")
    scores.score_example(ex, QualityConfig())
    assert "hallucinated_figures" in ex.reasons
    assert invented in " ".join(n for n in ex.notes if n.startswith("hallucinated"))
