"""Identify stage 1, style by style (issue 14) and transcripts (issue 22 item 4): small documents
that each pin one rule, through the real readers where the rule depends on them."""

from __future__ import annotations

from pathlib import Path

from src.detect.conversations import detect
from src.detect.transcript import is_filler
from src.ingest.file_processor import read_document
from tests.labelled_set import docx_doc, rows_doc, text_doc
from tests.make_documents import make_pdf, make_xlsx


def turns(doc_or_examples) -> list[list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    examples = detect(doc_or_examples) if not isinstance(doc_or_examples, list) else doc_or_examples
    return [[(t.role, " ".join(t.content.split())) for t in ex.turns] for ex in examples]


# ------------------------------------------------------------------ transcripts (issue 22)

INTERVIEW = """Interview with the harbour master, part 1

ANNA: When did the new pier open?

BEN: In 2019. Who built it, you ask? A Danish firm.

ANNA: Mm-hm.

BEN: They finished two months early.

Part 2, recorded the next day

BEN: Shall I start with the storms? Do you want the dates?

ANNA: Yes. Which storm did the most damage?

BEN: The one in January 2022. It moved the breakwater stones.

ANNA: OK. Yeah.

BEN: Umm.
"""


def test_one_speaker_keeps_one_role_across_the_whole_transcript() -> None:
    found = turns(text_doc(INTERVIEW, "interview.txt", "txt"))
    roles = {}
    for conversation in found:
        for role, content in conversation:
            speaker = "ANNA" if content.startswith(("When", "Yes.")) else "BEN"
            roles.setdefault(speaker, set()).add(role)
    # In part 2 BEN asks more questions than ANNA, yet ANNA (the asker of the document) stays user.
    assert roles == {"ANNA": {"user"}, "BEN": {"assistant"}}


def test_runs_of_one_speaker_are_merged_and_filler_is_dropped() -> None:
    first, second = turns(text_doc(INTERVIEW, "interview.txt", "txt"))
    assert first == [("user", "When did the new pier open?"),
                     ("assistant", "In 2019. Who built it, you ask? A Danish firm. "
                                   "They finished two months early.")]
    assert second == [("user", "Yes. Which storm did the most damage?"),
                      ("assistant", "The one in January 2022. It moved the breakwater stones.")]


def test_filler_is_only_backchannel() -> None:
    assert is_filler("OK. Yeah.") and is_filler("Umm.") and is_filler("Mm-hm.") and is_filler("Right.")
    assert not is_filler("Yes.") and not is_filler("OK, in 2019.") and not is_filler("No")


def test_two_filler_turns_are_no_conversation() -> None:
    doc = text_doc("0:0:0.0 --> 0:0:1.5\nSome Body\nOK. Yeah.\n\n0:0:3.2 --> 0:0:4.2\nJames Bond\nUmm.",
                   "teams.txt", "txt")
    assert detect(doc) == []


def test_chat_timestamps_in_other_notations() -> None:
    logs = ["[09:14] Priya: Can I check in early?\n[09:15] Desk (Jonas): From 1 pm, yes.",
            "09:14:03 - Kenji: Is my order shipped?\n09:15:10 - Support | Lucia: It left today.",
            "2024-03-01 09:14 Nadia: Is the flat free in April?\n2024-03-01 09:20 Host: It is.",
            "Nadia [09:14]: Is the flat free in April?\nPierre [09:20]: It is, from the 1st.",
            "Ola Nordmann  14:02\nIs the blade covered?\n\nSam  14:05\nYes, for two years."]
    for log in logs:
        (conversation,) = turns(text_doc(log, "chat.txt", "txt"))
        assert [role for role, _ in conversation] == ["user", "assistant"], log
        assert ":" not in conversation[0][1][:3] and "?" in conversation[0][1]


def test_log_lines_with_levels_are_not_a_chat() -> None:
    log = "\n".join(f"2026-03-01 09:1{i}:03 {level}: step {i} done, next step queued"
                    for i, level in enumerate(["INFO", "WARN", "INFO", "ERROR", "INFO", "INFO"]))
    assert detect(text_doc(log, "backup.log.txt", "txt")) == []


def test_a_timed_agenda_is_not_a_chat() -> None:
    agenda = ("09:00 Welcome: the chair opens the meeting.\n09:15 Budget: what changes in 2027?\n"
              "10:00 Break: coffee in the foyer.\n10:30 Workshops: groups of ten.\n"
              "12:00 Lunch: in the canteen.\n13:00 Close: summary and next dates.")
    assert detect(text_doc(agenda, "agenda.txt", "txt")) == []


def test_bold_speaker_names_in_markdown() -> None:
    doc = text_doc("**CARLA:** Why bees?\n\n**YUSUF:** Because they calm me down.\n\n"
                   "**CARLA:** And honey?\n\n**YUSUF:** Forty jars a year.", "ep.md")
    assert turns(doc) == [[("user", "Why bees?"), ("assistant", "Because they calm me down."),
                           ("user", "And honey?"), ("assistant", "Forty jars a year.")]]


# ------------------------------------------------------------------ MkDocs and link definitions

MKDOCS = """# FAQ

??? question "How do I install it?"

    Run:

    ```bash
    pip install tidewatch
        --upgrade
    ```

    See the [guide][g].

    [g]: https://tidewatch.example/install "Install guide"
"""


def test_mkdocs_answers_are_dedented_so_fences_close_and_link_definitions_are_left_out(
        tmp_path: Path) -> None:
    path = tmp_path / "faq.md"
    path.write_text(MKDOCS, encoding="utf-8")
    (example,) = detect(read_document(path))
    assert example.answer == ("Run:\n\n```bash\npip install tidewatch\n    --upgrade\n```\n\n"
                              "See the [guide][g].")


def test_link_definitions_are_left_out_of_ordinary_answers_too() -> None:
    doc = text_doc("## How do I report a bug?\n\nOpen an issue on the [tracker][t].\n\n"
                   "[t]: https://bugs.example/new\n[^1]: A footnote stays.", "faq.md")
    (example,) = detect(doc)
    assert example.answer == "Open an issue on the [tracker][t].\n\n[^1]: A footnote stays."


# ------------------------------------------------------------------ FAQ sections

def test_statement_entries_count_only_when_the_section_is_an_faq() -> None:
    body = ("## Home delivery\n\nWe deliver within two days in the city.\n\n"
            "## Steps to reset the device\n\nHold the button for ten seconds until it blinks.\n\n"
            "## Do children need a second dose\n\nYes, after four weeks.\n\n")
    faq = turns(text_doc("# Frequently asked questions\n\n" + body, "faq.md"))
    assert [c[0][1] for c in faq] == ["Home delivery", "Steps to reset the device",
                                      "Do children need a second dose"]
    report = text_doc("# Service report 2026\n\n" + body.replace("Do children need a second dose",
                                                                   "Vaccination results"), "r.md")
    assert detect(report) == []
    about = text_doc("# FAQ usage report\n\n" + body, "usage.md")
    assert [c[0][1] for c in turns(about)] == []


def test_mostly_question_sections_take_questions_without_question_marks_only() -> None:
    doc = text_doc("# Owner guide\n\n## How often should I clean the panels?\n\nTwice a year.\n\n"
                   "## Does snow damage the panels\n\nNo, they carry 5400 Pa.\n\n"
                   "## Can I walk on them?\n\nNever.\n\n## Warranty\n\nTwenty-five years.", "g.md")
    assert [c[0][1] for c in turns(doc)] == ["How often should I clean the panels?",
                                             "Does snow damage the panels", "Can I walk on them?"]


def test_noun_clause_headings_are_not_questions() -> None:
    doc = docx_doc("[h1] About us\n\n[h2] What we do\n\nWe install heat pumps.\n\n[h2] How it works\n\n"
                   "A survey, then a quote.\n\n[h2] Why we started\n\nClean heat for all.", "a.docx")
    assert detect(doc) == []


def test_pdf_questions_set_apart_by_weight_or_size(tmp_path: Path) -> None:
    source = ("# Frequently asked questions\n\n**Opening hours\n\nWe open at nine on weekdays.\n\n"
              "**Can I park on site\n\nYes, in the yard behind the building.\n\n"
              "^^Wheelchair access\n\nAll rooms can be reached by lift.")
    make_pdf(source, tmp_path / "faq.pdf")
    doc = read_document(tmp_path / "faq.pdf")
    kinds = {b.text: (b.kind, b.bold) for b in doc.blocks}
    assert kinds["Opening hours"] == ("paragraph", True)
    assert kinds["Wheelchair access"][0] == "heading"
    assert kinds["We open at nine on weekdays."] == ("paragraph", False)
    assert [c[0][1] for c in turns(doc)][:2] == ["Opening hours", "Can I park on site"]


# ------------------------------------------------------------------ tables

def test_ticket_columns_by_name_and_by_content() -> None:
    rows = [["T-1", "2026-01-02", "closed", "My invoice is wrong, can you fix it?",
             "I corrected the invoice and sent it again today.", "FIXED"],
            ["T-2", "2026-01-03", "closed", "How do I add a user to my plan?",
             "Open Settings, then Users, and click Invite to send an invitation.", "HOWTO"],
            ["T-3", "2026-01-03", "open", "The app crashes when I upload a photo.",
             "Version 4.2 fixes this crash; please update from the store.", "BUG"]]
    named = rows_doc(["id", "created", "status", "customer_message", "agent_reply", "code"], rows)
    odd = rows_doc(["Ref", "Opened", "State", "Body", "Response", "Code"], rows)
    unnamed = rows_doc(["column 1", "column 2", "column 3", "column 4", "column 5", "column 6"], rows)
    for doc in (named, odd, unnamed):
        assert [c[0][1] for c in turns(doc)] == [r[3] for r in rows]
        assert [c[1][1] for c in turns(doc)] == [r[4] for r in rows]


def test_tables_that_only_look_like_qa_give_nothing() -> None:
    survey = rows_doc(["question", "mean", "n", "comment"],
                      [["How clean are the rooms?", "3.9", "412", "Better since the spring contract."],
                       ["How easy is booking?", "4.3", "398", "The app logs people out too often."],
                       ["Would you use a creche?", "2.7", "377", "Mostly members under forty."]])
    log = rows_doc(["id", "time", "status", "note"],
                   [["1", "08:01", "new", "Created from the web form"],
                    ["1", "08:45", "assigned", "Assigned to the second level"],
                    ["1", "11:20", "waiting", "Waiting for the serial number"]])
    assert detect(survey) == [] and detect(log) == []


def test_headerless_two_column_sheet_starts_at_row_one(tmp_path: Path) -> None:
    make_xlsx("=== sheet FAQ ===\nDo you open on Sundays? | Yes, from ten to four.\n"
              "Is there parking? | Twelve free spaces behind the shop.\n"
              "Can I pay by card? | All cards are accepted, also contactless.", tmp_path / "f.xlsx")
    found = detect(read_document(tmp_path / "f.xlsx"))
    assert [ex.question for ex in found] == ["Do you open on Sundays?", "Is there parking?",
                                             "Can I pay by card?"]
    assert found[0].location == "sheet FAQ row 1"
    make_xlsx("=== sheet Stock ===\nFolding chair | Room B2, shelf four, for the summer fair.\n"
              "Projector | Lent to the youth group with its cable and remote.\n"
              "Gazebo | Two side walls are torn and need repair.", tmp_path / "s.xlsx")
    assert detect(read_document(tmp_path / "s.xlsx")) == []


# ------------------------------------------------------------------ e-mail threads

THREAD = """From: Grace Mensah <grace@post.example>
To: info@studio.example
Subject: Saturday course
Date: 14 March 2026 at 20:11

Hi, may my daughter (15) join on her own?

Grace

From: Clay Studio <info@studio.example>
To: Grace Mensah <grace@post.example>
Subject: Re: Saturday course
Date: 15 March 2026 at 10:02

Yes, from 14 she can join on her own with a signed consent form.

On 14 March 2026 at 20:11, Grace Mensah <grace@post.example> wrote:
> Hi, may my daughter (15) join on her own?

From: Grace Mensah <grace@post.example>
To: Clay Studio <info@studio.example>
Subject: Automatic reply: Re: Saturday course
Date: 15 March 2026 at 10:02

I am away until Monday and will read your message then.
"""


def test_email_thread_customer_and_reply_without_quotes_or_auto_replies() -> None:
    assert turns(text_doc(THREAD, "thread.txt", "txt")) == [[
        ("user", "Hi, may my daughter (15) join on her own? Grace"),
        ("assistant", "Yes, from 14 she can join on her own with a signed consent form.")]]


def test_a_single_email_or_a_forward_is_no_conversation() -> None:
    single = THREAD.split("\n\nFrom: Clay")[0]
    forward = single + ("\n\n---------- Forwarded message ---------\nFrom: Clay Studio "
                        "<info@studio.example>\nDate: 15 March 2026\nSubject: Course\n"
                        "To: Grace <grace@post.example>\n\nYes, she can join on her own.")
    assert detect(text_doc(single, "one.txt", "txt")) == []
    assert detect(text_doc(forward, "fwd.txt", "txt")) == []


def test_a_signature_ends_a_message_and_an_original_message_is_skipped_whole() -> None:
    first, reply = THREAD.split("\n\nFrom: Clay")[0], "From: Clay" + THREAD.split("From: Clay")[1]
    signed = first + "\n-- \nGrace Mensah, Harbour Road 4\n\n" + reply.split("\n\nOn 14")[0]
    outlook = (first + "\n\n" + reply.split("\n\nOn 14")[0] + "\n\n-----Original Message-----\n"
               "From: Grace Mensah <grace@post.example>\nSent: 14 March 2026 20:11\n"
               "To: info@studio.example\nSubject: Saturday course\n\n"
               "Hi, may my daughter (15) join on her own?")
    expected = [[("user", "Hi, may my daughter (15) join on her own? Grace"),
                 ("assistant", "Yes, from 14 she can join on her own with a signed consent form.")]]
    assert turns(text_doc(signed, "signed.txt", "txt")) == expected
    assert turns(text_doc(outlook, "outlook.txt", "txt")) == expected
