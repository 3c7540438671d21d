"""Structure details checked on small files the tests build (DOCX, XLSX, text, markdown)."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl

from src.utils.file_processor import read_document


def test_docx_bold_heading_list_and_header_dropped(tmp_path: Path) -> None:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "RUNNING HEADER"
    document.add_heading("Admissions", level=1)
    question = document.add_paragraph()
    question.add_run("What documents do I need?").bold = True
    mixed = document.add_paragraph("Partly ")
    mixed.add_run("bold").bold = True
    document.add_paragraph("Passport copy", style="List Bullet")
    path = tmp_path / "faq.docx"
    document.save(str(path))
    doc = read_document(path)
    assert [(b.kind, b.level, b.bold) for b in doc.blocks] == [
        ("heading", 1, True), ("paragraph", 0, True), ("paragraph", 0, False), ("list_item", 0, False)]
    # the heading is bold through its style (Heading 1 is bold in the default template)
    assert "RUNNING HEADER" not in doc.text
    assert doc.blocks[1].location == "paragraph 2"


def test_xlsx_merged_cells_formulas_and_header(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Exams"
    sheet.append(["Exam rules 2024"])
    sheet.merge_cells("A1:C1")
    sheet.append(["Category", "Question", "Answer"])
    sheet.append(["Conduct", "Can I bring a phone?", "No."])
    sheet.append([None, "Can I leave early?", "After 30 minutes."])
    sheet.merge_cells("A3:A4")
    sheet["D3"] = "=1+1"  # no cached value: openpyxl-written files carry none
    path = tmp_path / "exams.xlsx"
    workbook.save(path)
    doc = read_document(path)
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert rows[0].header == ["Category", "Question", "Answer"]
    assert [r.cells[:3] for r in rows] == [["Conduct", "Can I bring a phone?", "No."],
                                           ["Conduct", "Can I leave early?", "After 30 minutes."]]
    assert doc.blocks[0].text == "Exam rules 2024"  # a horizontal merge is read once
    assert rows[1].location == "sheet Exams row 4"


def test_speaker_transcript_keeps_turns_as_lines(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("Customer: Hi, my card is blocked.\nAgent: I can help with that.\n\n"
                    "Customer: Thanks!\nAgent: You're welcome.\n", encoding="utf-8")
    doc = read_document(path)
    assert [b.text for b in doc.blocks] == [
        "Customer: Hi, my card is blocked.\nAgent: I can help with that.",
        "Customer: Thanks!\nAgent: You're welcome."]
    assert [b.location for b in doc.blocks] == ["line 1", "line 4"]


def test_markdown_fences_lists_and_bold_questions(tmp_path: Path) -> None:
    path = tmp_path / "faq.markdown"
    path.write_text("# FAQ\n**How do I apply?**\nOnline.\n\n```python\n# not a heading\n\nx = 1\n```\n"
                    "- first\n  continued\n- second\n", encoding="utf-8-sig")
    doc = read_document(path)
    assert doc.format == "md"
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("heading", "FAQ"), ("paragraph", "**How do I apply?**\nOnline."),
        ("paragraph", "```python\n# not a heading\n\nx = 1\n```"),
        ("list_item", "- first\n  continued"), ("list_item", "- second")]


def test_large_text_is_streamed_into_bounded_blocks(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("\n".join(f"line {i} of a file without blank lines" for i in range(5000)))
    doc = read_document(path)
    assert len(doc.blocks) > 10 and max(len(b.text) for b in doc.blocks) <= 8100
    assert doc.text.count("\n") == 4999 + len(doc.blocks) - 1
