"""Each format read from real files (copies of ../shared/corpus in tests/data/corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.file_processor import read_document
from src.models import Document
from tests.conftest import DATA, corpus_file

CORPUS = DATA / "corpus"


def read(relative: str, **kwargs: object) -> Document:
    return read_document(CORPUS / relative, **kwargs)  # type: ignore[arg-type]


def texts(doc: Document, kind: str | None = None) -> list[str]:
    return [b.text for b in doc.blocks if kind is None or b.kind == kind]


def assert_spans(doc: Document) -> None:
    """Every block is found at its offset in the document text, blocks joined by a blank line."""
    assert doc.text == "\n\n".join(b.text for b in doc.blocks)
    for block in doc.blocks:
        assert doc.text[block.start:block.start + len(block.text)] == block.text


def refusal(relative: str, **kwargs: object) -> str:
    with pytest.raises(InputFileError) as info:
        read(relative, **kwargs)
    assert info.value.path.endswith(Path(relative).name)
    return info.value.reason


# ------------------------------------------------------------------------------------------ PDF

def test_pdf_word_gaps_are_restored() -> None:
    doc = read("pdf/test.pdf")
    assert "Large language models (LLMs) are becoming a crucial building block" in doc.text
    assert "Largelanguagemodels" not in doc.text
    assert doc.units == 1 and doc.unit_name == "pages"
    assert_spans(doc)


def test_pdf_fake_bold_is_deduplicated() -> None:
    doc = read("pdf/issue-842-example.pdf")
    assert "安徽安利合成革股份有限公司" in doc.text
    assert "ANHUI ANLI ARTIFICIAL LEATHER" in doc.text
    assert "安安徽徽" not in doc.text


def test_pdf_multi_column_reading_order() -> None:
    doc = read_document(corpus_file("pdf/federal-register-2020-17221.pdf"))
    assert doc.units == 15
    # Column 1 of page 2 continues on its own next line, not with column 2's text.
    summary = doc.text.index("SUMMARY: The FAA proposes to")
    assert doc.text[summary:summary + 200].split("\n")[1].startswith("supersede Airworthiness")
    assert "Federal Register/Vol. 85" not in doc.text  # running header dropped on every page
    assert_spans(doc)


def test_pdf_transcript_line_numbers_are_dropped() -> None:
    doc = read("pdf/scotus-transcript-p1.pdf")
    assert "IN THE SUPREME COURT OF THE UNITED STATES" in doc.text
    assert not any(t.strip().isdigit() for t in texts(doc))


def test_pdf_arabic_comes_out_in_reading_order() -> None:
    doc = read("pdf/multilang.pdf")
    assert "مرحبا بالعالم" in doc.text
    assert "Привет, мир" in doc.text


def test_pdf_encrypted_needs_its_password() -> None:
    assert "password-protected" in refusal("pdf/crazyones-encrypted-256.pdf")
    assert "wrong" in refusal("pdf/password-example.pdf", password="nope")
    assert "The Crazy Ones" in read("pdf/crazyones-encrypted-256.pdf", password="password").text
    assert read("pdf/password-example.pdf", password="test").units == 4


def test_pdf_copy_protected_with_empty_password_is_read() -> None:
    doc = read("pdf/copy-protected.pdf")
    assert doc.units == 2 and len(doc.text) > 4000


def test_pdf_scanned_pages_are_refused_or_flagged() -> None:
    assert "scanned/image-only PDF, OCR not supported" in refusal("pdf/ocr_test_rotated_90.pdf")
    doc = read("pdf/malformed-from-issue-932.pdf")
    assert any("almost no extractable text" in w for w in doc.warnings)


def test_pdf_recursive_xobjects_do_not_hang() -> None:
    doc = read("pdf/issue-1113-evil-xobjects.pdf")
    assert doc.text.count("Hello world") == 2


# ----------------------------------------------------------------------------------------- DOCX

def test_docx_headings_lists_and_tables() -> None:
    doc = read("docx/word_sample.docx")
    headings = [(b.text, b.level) for b in doc.blocks if b.kind == "heading"]
    assert ("Swimming in the lake", 1) in headings and ("Let’s eat", 2) in headings
    assert "Paddle about" in texts(doc, "list_item")
    food = [b for b in doc.blocks if b.kind == "table_row" and b.cells and b.cells[0] == "Berries"]
    assert food[0].cells == ["Berries", "Blueberry, Strawberry, Cranberry", "150"]
    assert_spans(doc)


def test_docx_merged_cells_appear_once() -> None:
    doc = read("docx/word_tables.docx")
    rows = {b.location: b.cells for b in doc.blocks if b.kind == "table_row"}
    assert rows["table 2 row 2"] == ["Cell 1.0", "Merged Cell 1.1 1.2"]  # horizontal span once
    assert rows["table 4 row 2"] == ["Cell 1.0", "Merged Cell 1.1 2.1", "Cell 1.2"]
    assert rows["table 4 row 3"] == ["Cell 2.0", "", "Cell 2.2"]  # vertical span not repeated


def test_docx_text_boxes_once_and_bold_paragraphs() -> None:
    doc = read("docx/textbox.docx")
    assert doc.text.count("Student falls ill") == 1
    assert doc.blocks[0].bold


def test_docx_footnotes_included_and_headers_dropped() -> None:
    doc = read("docx/footnotes.docx")
    assert texts(doc, "paragraph") == ["Ouch."]
    assert "A tachyon walks into a bar." in texts(doc, "footnote")


def test_docx_strict_and_transcript_and_empty() -> None:
    assert read("docx/strict-format.docx").text == "Test"
    chat = read("docx/teams_chat.docx")
    assert chat.blocks[0].text == "0:0:0.0 --> 0:0:1.510\nSome Body\nOK. Yeah."
    assert "no text found" in refusal("docx/empty.docx")


# ----------------------------------------------------------------------------------------- PPTX

def test_pptx_titles_tables_and_notes() -> None:
    doc = read("pptx/powerpoint_sample.pptx")
    assert doc.units == 3 and doc.unit_name == "slides"
    assert ("title", "slide 2", "Second slide title") in [(b.kind, b.location, b.text) for b in doc.blocks]
    assert ("notes", "Some notes on the second slide.") in [(b.kind, b.text) for b in doc.blocks]
    assert any(b.kind == "table_row" and b.location == "slide 1" for b in doc.blocks)


def test_pptx_vertical_tab_becomes_line_break() -> None:
    doc = read("pptx/powerpoint_bad_text.pptx")
    assert "\x0b" not in doc.text and doc.blocks[0].text.startswith("X-Library\nThe fully")


def test_pptx_grouped_shapes_and_notes_only() -> None:
    grouped = read_document(corpus_file("pptx/test.pptx"))
    assert "This is a nested shape with content in 2 shapes" in grouped.text
    assert read("pptx/prs-notes.pptx").text == "Notes"
    assert "no slides" in refusal("pptx/no-slides.pptx")


# ----------------------------------------------------------------------------------------- XLSX

def test_xlsx_question_answer_rows_with_headers() -> None:
    doc = read("xlsx/xlsx_06_edge_cases_.xlsx")
    pairs = []
    for block in doc.blocks:
        if block.kind == "row" and block.header and "Question" in block.header:
            row = dict(zip(block.header, block.cells or []))
            pairs.append((row["Question"], row["Answer"]))
    assert len(pairs) == 9
    assert ("What is the main objective?", "The main objective is...") in pairs
    diagonal = [b for b in doc.blocks if b.location == "sheet Diagonal row 6"][0]
    assert diagonal.header and "G1" in diagonal.header  # the second table has its own header
    assert_spans(doc)


def test_xlsx_inflated_dimension_and_hidden_sheet_policy() -> None:
    doc = read("xlsx/xlsx_04_inflated.xlsx")
    assert doc.units == 3 and any("Sheet4" in w for w in doc.warnings)
    everything = read("xlsx/xlsx_04_inflated.xlsx",
                      settings=InputConfig(include_hidden_sheets=True))
    assert everything.units == 4 and any("Sheet4" in b.location for b in everything.blocks)


def test_xlsx_strict_pivots_and_refusals() -> None:
    strict = read("xlsx/strict_iso_paths.xlsx")
    assert strict.blocks[0].cells and strict.blocks[0].cells[:2] == ["Item", "Thickness"]
    assert read("xlsx/pivots.xlsx").units == 6
    assert "password-protected" in refusal("xlsx/password_protected.xlsx")
    assert "not a valid Excel workbook" in refusal("xlsx/null_archive.xlsx")


# ------------------------------------------------------------------------------------ CSV, text

def test_csv_delimiters_encodings_and_ragged_rows() -> None:
    semi = read("csv/csv-semicolon.csv")
    assert semi.blocks[1].header and semi.blocks[1].header[:3] == ["Index", "Customer Id", "First Name"]
    assert read("csv/test_latin1.csv").blocks[-1].cells == ["4", "5", "©"]
    assert read("csv/test_mskanji.csv").blocks[-1].cells == ["髙橋淳", "35", "名古屋"]
    assert read("csv/test_utf16_little.csv").blocks[-1].cells == ["4", "5", "ʤ"]
    bad = read("csv/bad.csv")
    assert any("different number of fields" in w for w in bad.warnings)
    assert "no data" in refusal("csv/empty.csv")


def test_csv_quoted_multiline_answers() -> None:
    doc = read_document(corpus_file("csv/faq_covidbert.csv"))
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert len(rows) == 213
    assert all(b.header and b.header[:2] == ["question", "answer"] for b in rows)
    assert any("\n" in (b.cells or [""])[1] for b in rows)


def test_text_encodings() -> None:
    be = read("txt/fake-text-utf-16-be.txt")
    assert "\x00" not in be.text and be.text.startswith("This is a test document")
    assert read("txt/fake-text-utf-32.txt").text.startswith("This is a test document")
    assert "â\x80\x93" in read("txt/norwich-city.txt").text  # mojibake in the source is kept
    umlauts = read("md/umlauts-non-utf8.md")
    assert umlauts.blocks[0].kind == "heading" and umlauts.blocks[0].text == "können"
    assert umlauts.warnings  # the guessed encoding is reported


def test_markdown_heading_questions() -> None:
    doc = read("md/pypdf_faq.md")
    assert ("heading", 2, "How is pypdf related to PyPDF2?") in [
        (b.kind, b.level, b.text) for b in doc.blocks]
    assert doc.blocks[0].location == "line 1"
    assert_spans(doc)


def test_legacy_office_formats_are_refused_with_advice() -> None:
    assert "save as .docx" in refusal("other/fake.doc")
    assert "save as .xlsx" in refusal("other/tests-example.xls")
