"""Hostile and broken files, generated here: each is refused with a named, actionable error."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from src.config import InputConfig
from src.errors import InputFileError
from src.ingest.file_processor import iter_documents, read_document
from src.ingest.readers import safety
from src.models import Document, IngestFailure
from tests.conftest import DATA

CORPUS = DATA / "corpus"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def reason(path: Path, **kwargs: object) -> str:
    with pytest.raises(InputFileError) as info:
        read_document(path, **kwargs)  # type: ignore[arg-type]
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    return info.value.reason


def zip_bomb(path: Path, inflated_mb: int = 50) -> Path:
    """A .docx whose document.xml inflates ~1000x (declared sizes are honest, as in real bombs)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b" " * (inflated_mb << 20))
    return path


def test_zip_bomb_is_refused_before_opening(tmp_path: Path) -> None:
    text = reason(zip_bomb(tmp_path / "bomb.docx"))
    assert "zip bomb" in text and "word/document.xml" in text and "max_zip_ratio" in text


def test_total_uncompressed_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_UNZIPPED_MB", 4)  # a small cap instead of a 1 GB file
    path = zip_bomb(tmp_path / "big.xlsx", inflated_mb=8)
    assert "would unpack to 8 MB" in reason(path, settings=InputConfig(max_zip_ratio=100_000))


def test_png_named_docx_is_mislabeled(tmp_path: Path) -> None:
    path = tmp_path / "photo.docx"
    path.write_bytes(PNG)
    assert "looks like a PNG image" in reason(path)
    text_file = tmp_path / "notes.txt"
    text_file.write_bytes(PNG)
    assert "not a text file" in reason(text_file)


def test_truncated_pdf_and_docx(tmp_path: Path) -> None:
    pdf = tmp_path / "cut.pdf"
    pdf.write_bytes((CORPUS / "pdf/test.pdf").read_bytes()[:5000])
    assert "cannot be read as PDF: the file is corrupt, truncated" in reason(pdf)
    docx = tmp_path / "cut.docx"
    docx.write_bytes((CORPUS / "docx/word_sample.docx").read_bytes()[:20000])
    assert "damaged or truncated" in reason(docx)


def test_file_over_max_file_mb_is_refused_unless_it_streams(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * 1_100_000)
    assert "over the input.max_file_mb limit of 1 MB" in reason(path, settings=InputConfig(max_file_mb=1))
    text = tmp_path / "huge.txt"  # read in parts of bounded size: no file size limit applies
    text.write_text("word " * 300_000)
    assert read_document(text, settings=InputConfig(max_file_mb=1)).text.count("word") == 300_000


def test_empty_unsupported_and_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    assert "empty file" in reason(empty)
    odd = tmp_path / "image.png"
    odd.write_bytes(PNG)
    assert "unsupported file type '.png'" in reason(odd)
    assert "does not exist" in reason(tmp_path / "nope.pdf")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("secret")
    path.chmod(0)
    try:
        assert "permission denied" in reason(path)
    finally:
        path.chmod(0o600)


def test_control_characters_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "ctrl.txt"
    path.write_bytes(b"Tab\there\x00 bell\x07 line\x0bbreak\r\nnext\x1b[0m\n")
    doc = read_document(path)
    assert doc.text == "Tab\there bell line\nbreak\nnext[0m"


def test_mixed_folder_yields_good_documents_and_named_errors(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    good = ["docx/teams_chat.docx", "csv/bad.csv", "md/pypdf_faq.md", "xlsx/xlsx_06_edge_cases_.xlsx",
            "pptx/powerpoint_sample.pptx", "pdf/test.pdf"]
    for relative in good:
        shutil.copy(CORPUS / relative, folder / "sub" / Path(relative).name)
    (folder / "photo.docx").write_bytes(PNG)
    (folder / "legacy.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    zip_bomb(folder / "bomb.pptx")
    (folder / "empty.txt").write_bytes(b"")
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / ".hidden" / "secret.txt").write_text("never read")
    results = list(iter_documents([folder]))
    docs = [r for r in results if isinstance(r, Document)]
    failures = {Path(r.path).name: r.reason for r in results if isinstance(r, IngestFailure)}
    assert sorted(Path(d.path).name for d in docs) == sorted(Path(g).name for g in good)
    assert sorted(failures) == ["bomb.pptx", "empty.txt", "legacy.doc", "photo.docx"]
    assert "save as .docx" in failures["legacy.doc"]
    assert [Path(r.path).name for r in results][:4] == ["bomb.pptx", "empty.txt", "legacy.doc", "photo.docx"]


def test_passwords_by_file_name(tmp_path: Path) -> None:
    results = list(iter_documents([CORPUS / "pdf/crazyones-encrypted-256.pdf"],
                                  passwords={"crazyones-encrypted-256.pdf": "password"}))
    assert isinstance(results[0], Document) and "Crazy" in results[0].text


def test_time_limit_stops_a_slow_parse_and_keeps_outer_timer(tmp_path: Path) -> None:
    import signal
    import time

    outer = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout's own alarm, put back below
    signal.setitimer(signal.ITIMER_REAL, 50)  # stands for a caller's alarm
    previous = signal.signal(signal.SIGALRM, lambda *a: None)
    try:
        with pytest.raises(InputFileError, match="took longer than 0.2 s"):
            with safety.time_limit(tmp_path / "slow.pdf", seconds=0.2):
                time.sleep(2)
        assert 45 < signal.getitimer(signal.ITIMER_REAL)[0] <= 50
    finally:
        signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, *outer)
