"""`python -m src.main ingest`: a line per file or JSON, exit 0 when any file was read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from src.ingest.file_processor import read_document, summarize
from src.main import main
from src.models import IngestFailure
from tests.conftest import DATA

CORPUS = DATA / "corpus"


def test_json_summary_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "photo.docx"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n")
    code = main(["ingest", str(CORPUS / "pptx/powerpoint_sample.pptx"), str(bad), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["read"] == 1 and data["failed"] == 1
    ok, failed = data["files"]
    assert ok["format"] == "pptx" and ok["units"] == 3 and ok["unit_name"] == "slides"
    assert ok["tokens"] > 0 and ok["token_unit"].startswith("tokens (")
    assert ok["kinds"]["notes"] == 2
    assert failed == {"file": str(bad), "ok": False, "error": failed["error"]}
    assert "PNG" in failed["error"]


def test_text_output_and_exit_1_when_nothing_read(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\n")
    assert main(["ingest", str(empty)]) == 1
    err = capsys.readouterr().err
    assert f"Error: {empty}: no data" in err and "0 of 1 file(s) read." in err


def test_password_flag(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "pdf/crazyones-encrypted-256.pdf"
    assert main(["ingest", str(path), "--password", "crazyones-encrypted-256.pdf=password"]) == 0
    assert "pdf, " in capsys.readouterr().out
    assert main(["ingest", str(path), "--password", "novalue"]) == 2


def test_summarize_counts_words_by_default() -> None:
    doc = read_document(CORPUS / "md/pypdf_faq.md")
    rows = summarize([doc, IngestFailure("x.pdf", "broken")])
    assert rows[0]["tokens"] == len(doc.text.split()) and rows[0]["token_unit"] == "words"
    assert rows[1] == {"file": "x.pdf", "ok": False, "error": "broken"}
