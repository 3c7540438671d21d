"""Identify stage 1: precision/recall on the labelled set, verbatim text, spans, patterns, real files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from src.detect.conversations import detect, keywords, question_type
from src.detect.lines import norm
from src.models import Document, Example
from tests.labelled_set import blocks_doc, labels, load_case, pages_doc, rows_doc, slides_doc, text_doc

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
LABELS = labels()
STAMPED = re.compile(r"^-?\d{2}( \d{2}){3}\s+[A-Z]")


def pairs(examples: list[Example]) -> list[tuple[str, str]]:
    """(user, assistant) neighbours of every example, whitespace-normalised."""
    out = []
    for ex in examples:
        for a, b in zip(ex.turns, ex.turns[1:]):
            if a.role == "user" and b.role == "assistant":
                out.append((norm(a.content), norm(b.content)))
    return out


def precision_recall() -> tuple[float, float, int, int, int]:
    tp = fp = fn = 0
    for name, expected in LABELS.items():
        got = set(pairs(detect(load_case(name))))
        want = {(norm(q), norm(a)) for q, a in expected}
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), tp, fp, fn


def test_labelled_set_is_big_and_varied_enough() -> None:
    positives = [n for n, p in LABELS.items() if p]
    negatives = [n for n, p in LABELS.items() if not p]
    assert len(positives) >= 30 and len(negatives) >= 10
    suffixes = {n.split(".", 1)[1] for n in LABELS}
    assert {"md", "txt", "csv", "docx.txt", "pdf.txt", "pptx.txt", "xlsx.csv"} <= suffixes


def test_precision_and_recall_on_the_labelled_set() -> None:
    precision, recall, tp, fp, fn = precision_recall()
    print(f"\nidentify stage 1 on {len(LABELS)} labelled documents: precision {precision:.3f}, "
          f"recall {recall:.3f} (true {tp}, false {fp}, missed {fn})")
    assert precision >= 0.95
    assert recall >= 0.95


@pytest.mark.parametrize("name", sorted(n for n, p in LABELS.items() if not p))
def test_documents_without_qa_give_nothing(name: str) -> None:
    assert detect(load_case(name)) == []


def _verbatim(content: str, text: str) -> bool:
    return norm(content) in text


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_turn_is_verbatim_and_inside_its_span(name: str) -> None:
    doc = load_case(name)
    text = norm(doc.text)
    for ex in detect(doc):
        assert ex.span is not None
        inside = norm(doc.text[ex.span[0]:ex.span[1]])
        for turn in ex.turns:
            # A transcript turn merged from one speaker's consecutive lines is verbatim line by line.
            pieces = [turn.content] if _verbatim(turn.content, text) else turn.content.split("\n")
            assert all(norm(p) in text and norm(p) in inside for p in pieces), turn.content
            assert len(pieces) == 1 or name == "pos/30_support_merged.txt"


@pytest.mark.parametrize("name", sorted(n for n, p in LABELS.items() if p))
def test_provenance_and_context(name: str) -> None:
    doc = load_case(name)
    for ex in detect(doc):
        assert (ex.origin, ex.mode, ex.source_file) == ("extracted", "identify", doc.path)
        assert ex.persona == ""
        assert ex.location and ex.question_type and ex.topic_keywords
        assert norm(ex.answer.split("\n")[0]) in norm(ex.context)
        assert [t.role for t in ex.turns][:2] == ["user", "assistant"]
        assert all(a.role != b.role for a, b in zip(ex.turns, ex.turns[1:]))


def test_include_context_false_and_min_turns() -> None:
    chat = load_case("pos/11_user_assistant.txt")
    faq = load_case("pos/05_library_qa.txt")
    assert all(ex.context == "" for ex in detect(faq, include_context=False))
    assert len(detect(faq, min_turns=4)) == 0
    (long_chat,) = detect(chat, min_turns=6)
    assert len(long_chat.turns) == 6


def test_answer_across_a_page_break_stays_whole_and_locations_name_the_page() -> None:
    doc = pages_doc(["Q: What can go in the bin?\nA: Paper, cans and clean plastic. Please rinse",
                     "containers first.\n\nQ: When is collection?\nA: Every Tuesday."])
    first, second = detect(doc)
    assert first.answer == "Paper, cans and clean plastic. Please rinse\n\ncontainers first."
    assert (first.location, second.location) == ("page 1", "page 2")


def test_question_heading_without_body_and_multiple_choice_are_not_qa() -> None:
    doc = text_doc("# FAQ\n\n## How do I pay?\n\n## Can I get a refund?\n\nWithin 14 days.\n")
    got = [(ex.question, ex.answer) for ex in detect(doc)]
    assert got == [("Can I get a refund?", "Within 14 days.")]
    quiz = text_doc("1. Which planet is largest?\nA) Jupiter\nB) Mars\n", fmt="txt")
    assert detect(quiz) == []


def test_raw_markdown_headings_and_numbered_heading_questions() -> None:
    doc = text_doc("## 1. How do I sign up?\n\nUse the form.\n\n## 2. Is it free?\n\nYes.\n",
                   keep_hashes=True)
    assert [(ex.question, ex.answer) for ex in detect(doc)] == [
        ("How do I sign up?", "Use the form."), ("Is it free?", "Yes.")]


def test_rows_prefer_plain_answer_over_html_and_name_sheet_and_row() -> None:
    doc = rows_doc(["question", "answer_html", "answer"],
                   [["Is parking free?", "<p>Yes</p>", "Yes, for two hours."]], sheet="FAQ")
    (ex,) = detect(doc)
    assert (ex.question, ex.answer, ex.location) == ("Is parking free?", "Yes, for two hours.",
                                                     "sheet FAQ row 2")


def test_rows_without_question_columns_are_ignored() -> None:
    doc = rows_doc(["name", "price"], [["What a Tea?", "3.50"], ["Why Not Coffee?", "2.90"]])
    assert detect(doc) == []


def test_slides_title_question_with_body_answer() -> None:
    doc = slides_doc([("Agenda", ["Intro"], ""),
                      ("How do I book a room?", ["Use the app.", "Ask reception."], "note"),
                      ("Questions?", [], "")])
    (ex,) = detect(doc)
    assert (ex.question, ex.answer, ex.location) == ("How do I book a room?",
                                                     "Use the app.\n\nAsk reception.", "slide 2")


def test_bold_blocks_and_inline_bold_questions() -> None:
    doc = blocks_doc("hb.docx", "docx", [("paragraph", "How do I apply for leave?", {"bold": True}),
                                          ("paragraph", "Use the HR portal."),
                                          ("paragraph", "**Is lunch provided?** Yes, on Fridays.")])
    assert [(ex.question, ex.answer) for ex in detect(doc)] == [
        ("How do I apply for leave?", "Use the HR portal."), ("Is lunch provided?", "Yes, on Fridays.")]


def test_transcript_with_three_speakers_is_cut_into_two_person_dialogues() -> None:
    doc = text_doc("Ana: Did you ship it?\nBo: Yes, this morning.\nAna: Which courier?\nBo: DHL.\n"
                   "Cy: Can I get the tracking code?\nBo: It is DHL-123.\nCy: Thanks?\nBo: Anytime.",
                   fmt="txt")
    got = [[(t.role, t.content) for t in ex.turns] for ex in detect(doc)]
    assert got == [
        [("user", "Did you ship it?"), ("assistant", "Yes, this morning."), ("user", "Which courier?"),
         ("assistant", "DHL.")],
        [("user", "Can I get the tracking code?"), ("assistant", "It is DHL-123."), ("user", "Thanks?"),
         ("assistant", "Anytime.")]]


def test_label_value_lines_are_not_a_transcript() -> None:
    doc = text_doc("Name: Jo Bloggs\nRole: Engineer\nTeam: Payments\nStart: March?", fmt="txt")
    assert detect(doc) == []


def test_vtt_cues_and_speaker_lines() -> None:
    doc = text_doc("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Mia>Is the demo ready?\n\n"
                   "00:00:03.500 --> 00:00:05.000\n<v Raj>Almost, give me five minutes.", fmt="txt")
    (ex,) = detect(doc)
    assert [t.content for t in ex.turns] == ["Is the demo ready?", "Almost, give me five minutes."]


def test_keywords_and_question_type() -> None:
    assert keywords("The tuition fee and the hostel fee are due; the fee is paid by card.", k=2) == [
        "fee", "tuition"]
    assert question_type("How much is the hostel?") == "cost"
    assert question_type("How do I renew my visa?") == "how-to"
    assert question_type("Why was I charged twice?") == "why"
    assert question_type("When is the deadline?") == "when"
    assert question_type("Is there Wi-Fi?") == "yes/no"
    assert question_type("What is a novel coronavirus?") == "what"


def test_document_offsets_are_trusted_even_when_blocks_are_not_contiguous() -> None:
    doc = text_doc("Q: Is it open today?\nA: Yes, until six.", fmt="txt")
    shifted = Document(doc.path, doc.format, doc.blocks, doc.text)
    (ex,) = detect(shifted)
    assert shifted.text[ex.span[0]:ex.span[1]] == "Q: Is it open today?\nA: Yes, until six."


# ------------------------------------------------------------------ real files through ingestion

file_processor = pytest.importorskip("src.ingest.file_processor")
SAMPLES = ROOT / "demo" / "samples"


@pytest.mark.parametrize("name, examples, turns", [
    ("admissions_faq.md", 4, 8), ("student_helpdesk_chat.txt", 1, 6), ("fees_and_services.csv", 4, 8),
    ("hostel_guide.docx", 3, 6), ("exam_rules.xlsx", 3, 6), ("orientation.pptx", 2, 4)])
def test_demo_samples_end_to_end(name: str, examples: int, turns: int) -> None:
    doc = file_processor.read_document(SAMPLES / name)
    found = detect(doc)
    assert (len(found), sum(len(ex.turns) for ex in found)) == (examples, turns)
    text = norm(doc.text)
    assert all(norm(t.content) in text for ex in found for t in ex.turns)


@pytest.mark.parametrize("relative, examples", [
    ("csv/faq_covidbert.csv", 213), ("md/pypdf_faq.md", 5), ("md/docling_faq_index.md", 13),
    ("xlsx/xlsx_06_edge_cases_.xlsx", 9), ("docx/teams_chat.docx", 0),
    ("pdf/scotus-transcript-p1.pdf", 0)])
def test_corpus_files_end_to_end(relative: str, examples: int) -> None:
    doc = file_processor.read_document(CORPUS / relative)
    found = detect(doc)
    assert len(found) == examples
    text = norm(doc.text)
    assert all(norm(t.content) in text for ex in found for t in ex.turns)


def test_covid_faq_uses_the_plain_answer_column() -> None:
    found = detect(file_processor.read_document(CORPUS / "csv" / "faq_covidbert.csv"))
    assert found[0].question == "What is a novel coronavirus?"
    assert not any("<p>" in ex.answer or "</" in ex.answer for ex in found)


def test_docling_admonitions_drop_the_repeated_heading() -> None:
    found = detect(file_processor.read_document(CORPUS / "md" / "docling_faq_index.md"))
    assert found[0].question == "Is Python 3.14 supported?"
    assert found[0].answer == "Python 3.14 is supported from Docling 2.59.0."
    assert found[2].question == "Install conflicts with numpy (python 3.13)"
    assert "leading to the error above" in found[2].answer


def test_spacelog_timestamped_turns_stay_multi_turn_and_verbatim() -> None:
    doc = file_processor.read_document(CORPUS / "txt" / "spacelog_ma8_TEC.txt")
    found = detect(doc)
    assert len(found) > 100 and max(len(ex.turns) for ex in found) > 2
    text = norm(doc.text)
    for ex in found:
        for turn in ex.turns:
            assert all(norm(line) in text for line in turn.content.split("\n"))
            assert not STAMPED.match(turn.content)  # the timestamp and speaker are not in the turn


def test_soft_wrapped_answer_lines_are_joined_but_lists_and_code_keep_their_breaks() -> None:
    from src.detect.lines import unwrap

    assert unwrap("Applications close on 30 June. Late ones\nare reviewed until 15 July.") == \
        "Applications close on 30 June. Late ones are reviewed until 15 July."
    assert unwrap("You need:\n- a passport\n- two photos") == "You need:\n- a passport\n- two photos"
    assert unwrap("Steps\n1. Book\n2. Pay") == "Steps\n1. Book\n2. Pay"
    fenced = "Run:\n```\npip install\nx\n```"
    assert unwrap(fenced) == fenced
