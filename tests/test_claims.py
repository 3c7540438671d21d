"""Claim-level grounding on hand-labelled answers: each claim's evidence span in the source, or why
it is unsupported; faithfulness; verbatim samples; answers without a source; stored and reloaded."""

from __future__ import annotations

import json

from src.config import QualityConfig, db_path, output_root
from src.main import main
from src.models import Example, Turn
from src.persistence.sqlite_client import Database, example_from_row, example_to_row
from src.quality import scores
from src.quality.claims import claim_text, evidence_text, faithfulness, ground, split_claims
from tests.test_quality import SOURCE

# (answer, one label per claim: True = the source supports it). Written by hand against SOURCE.
LABELLED = [
    # supported, paraphrased
    ("Once admitted, you apply for a student visa at the Indian High Commission in Dhaka. "
     "Bring your admission letter, your passport and a bank statement.", [True, True]),
    ("Sharda University is in Greater Noida and takes Bangladeshi students for B.Tech.", [True]),
    ("You need SSC and HSC results, with a GPA of at least 4.0 in each.", [True]),
    # partly supported: one invented statement
    ("The tuition fee for B.Tech Computer Science is ₹1,20,000 per year, and students with an HSC "
     "GPA of 5.0 get a 50% scholarship. The campus also has a swimming pool and a cricket ground.",
     [True, True, False]),
    ("The campus has a mosque for prayer; halal food is served in two hostel messes. The gym is "
     "open all night for residents.", [True, True, False]),
    # invented figure
    ("The tuition fee for B.Tech Computer Science is ₹2,50,000 per year.", [False]),
    ("Applications close on 15 July 2025.", [False]),
    ("Students with HSC GPA 5.0 receive a 75% scholarship on tuition.", [False]),
    # invented name
    ("Amity University charges the same tuition fee.", [False]),
    ("Visa applications go through the Indian embassy in Chittagong.", [False]),
    # two facts from different sentences joined in one claim
    ("Apply before 30 June 2025 for B.Tech at Sharda University in Greater Noida.", [True]),
]


def labelled_claims() -> list[tuple[str, bool, bool]]:
    """(claim, label, verdict) for every claim of LABELLED."""
    rows = []
    for answer, labels in LABELLED:
        claims = ground(answer, SOURCE)
        assert len(claims) == len(labels), [answer[c.start:c.end] for c in claims]
        rows += [(answer[c.start:c.end], label, c.supported) for c, label in zip(claims, labels)]
    return rows


def test_every_hand_labelled_claim_is_judged_right() -> None:
    rows = labelled_claims()
    wrong = [(claim, label) for claim, label, verdict in rows if label != verdict]
    assert not wrong
    assert len(rows) == 16


def test_evidence_spans_point_at_the_supporting_sentence() -> None:
    answer = "The application deadline is 30 June 2025. Halal food is served in two hostel messes."
    example = Example([Turn("user", "When?"), Turn("assistant", answer)], context=SOURCE)
    example.claims = ground(answer, SOURCE)
    deadline, food = example.claims
    assert claim_text(example, deadline) == "The application deadline is 30 June 2025."
    assert evidence_text(example, deadline) == "The application deadline is 30 June 2025."
    assert "halal food is served in two hostel messes" in evidence_text(example, food)
    for claim in example.claims:
        for start, end in claim.evidence:
            assert 0 <= start < end <= len(SOURCE)


def test_unsupported_claims_say_what_the_source_lacks() -> None:
    invented_fee, invented_name = ground("The fee is ₹2,50,000 per year. Amity University agrees.",
                                         SOURCE)
    assert invented_fee.status == "unsupported" and "2,50,000" in invented_fee.missing
    assert invented_fee.evidence == []
    assert "Amity" in invented_name.missing


def test_framing_and_questions_are_not_claims() -> None:
    answer = "Yes. Here is what you need:\n1. SSC and HSC results.\n2. A passport.\nAnything else?"
    assert [answer[s:e] for s, e in split_claims(answer)] == ["SSC and HSC results.", "A passport."]
    text = "Dr. Rao teaches B.Tech. The fee is Rs. 500 a month."
    assert [text[s:e] for s, e in split_claims(text)] == ["Dr. Rao teaches B.Tech.",
                                                         "The fee is Rs. 500 a month."]


def test_faithfulness_score_threshold_and_scoring_notes() -> None:
    partly = Example([Turn("user", "What does it cost?"), Turn("assistant", LABELLED[3][0])],
                     context=SOURCE, origin="synthetic")
    scores.score_example(partly, QualityConfig())
    assert partly.scores["faithfulness"] == round(2 / 3, 4)
    assert "unsupported_claims" not in partly.reasons  # 0.67 >= 0.5
    assert any(n.startswith("faithfulness 0.67: 2/3 claims") and "swimming pool" in n
               for n in partly.notes)
    strict = QualityConfig()
    strict.thresholds.faithfulness = 0.9
    scores.score_example(partly, strict)
    assert "unsupported_claims" in partly.reasons


def test_verbatim_samples_are_the_documents_own_text() -> None:
    answer = "Applicants need SSC and HSC results with a minimum GPA of 4.0 in each."
    extracted = Example([Turn("user", "What do I need?"), Turn("assistant", answer)], context=SOURCE,
                        origin="extracted")
    scores.score_example(extracted, QualityConfig())
    assert extracted.scores["faithfulness"] == 1.0
    assert [c.status for c in extracted.claims] == ["supported"]
    assert evidence_text(extracted, extracted.claims[0]) == answer
    unplaced = ground("Lorem ipsum dolor sit amet consectetur.", SOURCE, verbatim=True)
    assert [c.status for c in unplaced] == ["verbatim"] and faithfulness(unplaced) == 1.0
    no_context = ground(answer, "", verbatim=True)
    assert [c.status for c in no_context] == ["verbatim"]


def test_without_a_source_claims_are_listed_but_not_checked() -> None:
    example = Example([Turn("user", "q?"), Turn("assistant", "The fee is 10 dollars a year.")],
                      origin="synthetic")
    scores.score_example(example, QualityConfig())
    assert [c.status for c in example.claims] == ["unchecked"]
    assert "faithfulness" not in example.scores
    assert any(n.startswith("faithfulness not checked") for n in example.notes)


def test_claims_and_verdict_survive_storage() -> None:
    example = Example([Turn("user", "q?"), Turn("assistant", LABELLED[3][0])], context=SOURCE,
                      origin="synthetic", judge={"supported": True, "rationale": "ok"})
    example.claims = ground(example.answer, SOURCE)
    columns = ("id", "dataset_id", "content", "token_length", "topic_keywords", "source_file", "split",
               "status", "reasons", "scores", "metadata")
    back = example_from_row(dict(zip(columns, example_to_row("ds", example))))
    assert back.claims == example.claims and back.judge == example.judge


def test_analyze_errors_lists_the_unsupported_claims(capsys) -> None:  # type: ignore[no-untyped-def]
    examples = [Example([Turn("user", "What does it cost?"), Turn("assistant", answer)],
                        context=SOURCE, origin="synthetic", source_file="sharda.pdf", location="page 2")
                for answer, _ in LABELLED[3:6]]
    scores.score_examples(examples, QualityConfig())
    with Database(db_path()) as db:
        db.save_examples(db.upsert_dataset("claims", "openai", "gpt-4o-mini", "create", {}), examples)
    assert main(["analyze-errors", "claims"]) == 0
    out = capsys.readouterr().out
    assert "Unsupported claims: 3 in 3 sample(s)" in out
    assert "swimming pool" in out and "2,50,000" in out
    report = json.loads((output_root() / "claims" / "claims_errors.json").read_text(encoding="utf-8"))
    listed = report["unsupported_claims"]["claims"]
    assert any(c["accepted"] for c in listed)  # a partly supported answer can still pass
