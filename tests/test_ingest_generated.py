"""Structure details checked on files the tests build (DOCX, XLSX, CSV, text, markdown)."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
import pytest

from src.errors import InputFileError
from src.ingest.file_processor import iter_documents, read_document
from src.ingest.readers import budget
from src.ingest.readers.budget import MemoryBudget
from src.ingest.readers.common import clean_text
from src.ingest.readers.rows import RowBlock
from src.models import Block, IngestFailure


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
    assert rows[1].header is rows[0].header  # one header list per table, shared by its rows
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


def _qa_rows(count: int) -> list[list[str]]:
    return [[str(i), f"What is fee {i}?", f"Fee {i} is \u20b9{i}00.\nLate fee applies.",
             "" if i % 7 == 0 else "en"] for i in range(count)]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    lines = ["id,question,answer,lang"] + [",".join(f'"{c}"' for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_large_csv_rows_share_one_header_and_stay_correct(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    written = _qa_rows(20_000)
    _write_csv(path, written)
    doc = read_document(path)
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert len(rows) == 20_000
    assert len({id(b.header) for b in rows}) == 1  # ONE header list for the whole table
    assert rows[0].header == ["id", "question", "answer", "lang"]
    assert [b.cells for b in rows] == written  # multi-line and empty cells come back as written
    assert rows[7].text == "7 | What is fee 7? | Fee 7 is \u20b9700.\nLate fee applies."
    assert all(doc.text[b.start:b.start + len(b.text)] == b.text for b in doc.blocks)
    assert rows[-1].location == "row 20001"


def test_row_blocks_keep_cells_without_a_list_per_row() -> None:
    plain = RowBlock(text="a | b", kind="row", location="row 2", cells=["a", "b"])
    assert plain.cells == ["a", "b"] and plain.packed_bytes() == 0  # split from the text itself
    for cells in (["a", "", "b"], ["x | y", "z"], [""], [], None):
        text = " | ".join(c for c in cells or [] if c)
        block = RowBlock(text=text, kind="row", location="row 3", cells=cells)
        assert block.cells == cells and isinstance(block, Block)
    edited = plain.cells
    edited.append("c")
    assert plain.cells == ["a", "b"]  # each access is a new list: assign back to change them
    plain.cells = edited
    assert plain.cells == ["a", "b", "c"]


def test_clean_text_fast_path_keeps_every_rule() -> None:
    assert clean_text(" a\r\nb\x00c \n\ufeffd\x0ce\t\n ") == "a\nbc\nd\ne"
    plain = "nothing to clean here"
    assert clean_text(plain) is plain


def test_memory_budget_counts_the_widest_character() -> None:
    narrow = MemoryBudget("x.txt", limit_mb=100)
    narrow.charge("a" * 1000, 1)
    wide = MemoryBudget("x.txt", limit_mb=100)
    wide.charge("a" * 1000, 1)
    wide.charge("\U0001f600", 2)  # one emoji makes the joined Document.text 4 bytes a character
    assert wide.estimate - narrow.estimate > 3 * 1000


def test_csv_past_the_part_size_is_read_in_parts_not_refused(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "PART_MB", 0.25)  # the real part size needs a ~10 MB CSV
    monkeypatch.setattr(budget, "MAX_DOCUMENT_MB", 1)  # and a whole Document would be refused
    path = tmp_path / "huge.csv"
    _write_csv(path, _qa_rows(10_000))
    parts = [r for r in iter_documents([tmp_path])]
    assert len(parts) > 4 and all(not isinstance(p, IngestFailure) for p in parts)
    assert [p.part for p in parts] == list(range(len(parts)))  # type: ignore[union-attr]
    assert [p.last_part for p in parts] == [False] * (len(parts) - 1) + [True]  # type: ignore[union-attr]
    assert sum(len(p.blocks) for p in parts) == 10_001  # type: ignore[union-attr]
    for part in parts:  # every part is bounded, and knows where it sits in the whole text
        assert len(part.text) < 0.25 * 1048576  # type: ignore[union-attr]
    monkeypatch.setattr(budget, "MAX_DOCUMENT_MB", 280)
    whole = read_document(path)  # parts joined: the same text and offsets as one piece
    monkeypatch.setattr(budget, "PART_MB", 1000)
    single = read_document(path)
    assert whole.text == single.text and len(whole.blocks) == len(single.blocks) == 10_001
    assert [b.start for b in whole.blocks] == [b.start for b in single.blocks]
    for part in parts:
        first = part.blocks[0]  # type: ignore[union-attr]
        at = part.offset + first.start  # type: ignore[union-attr]
        assert single.text[at:at + len(first.text)] == first.text


def test_file_that_cannot_stream_is_refused_by_name_saying_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "MAX_DOCUMENT_MB", 0.2)
    document = docx.Document()
    for i in range(3000):
        document.add_paragraph(f"Paragraph {i} about tuition fees, visas and hostel rooms.")
    document.save(str(tmp_path / "long.docx"))
    small = tmp_path / "small.csv"
    _write_csv(small, _qa_rows(100))
    results = list(iter_documents([tmp_path]))  # the batch goes on: one failure, one document
    assert isinstance(results[0], IngestFailure) and results[0].path == "long.docx"
    assert "too large to read" in results[0].reason and "DOCX" in results[0].reason
    assert len(results[1].blocks) == 101  # type: ignore[union-attr]


def test_office_file_too_large_to_parse_is_refused_before_parsing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = docx.Document()
    for i in range(300):
        document.add_paragraph(f"Paragraph {i} about tuition fees, visas and hostel rooms.")
    path = tmp_path / "long.docx"
    document.save(str(path))
    assert len(read_document(path).blocks) == 300
    monkeypatch.setattr(budget, "MAX_DOCUMENT_MB", 0.1)  # below what its parsed XML would take
    with pytest.raises(InputFileError, match="parsing its XML alone would need"):
        read_document(path)
