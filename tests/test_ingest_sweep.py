"""Every file of ../shared/corpus is read or refused exactly as its MANIFEST's Expected column says."""

from __future__ import annotations

import re

import pytest

from src.ingest.file_processor import iter_documents, read_document
from src.models import Document, IngestFailure
from tests.conftest import SHARED_CORPUS

pytestmark = pytest.mark.slow  # reads all 60 files (~15 s)

# The MANIFEST gives these passwords for its encrypted PDFs.
PASSWORDS = {"pdf/password-example.pdf": "test", "pdf/crazyones-encrypted-256.pdf": "password"}
_ROW = re.compile(r"^\| `(?P<file>[a-z]+/[^`]+)` \|.*\| (?P<expected>[^|]+) \|$")


def manifest() -> dict[str, str]:
    """{relative path: Expected text} from the MANIFEST tables."""
    text = (SHARED_CORPUS / "MANIFEST.md").read_text(encoding="utf-8")
    return {m["file"]: m["expected"].strip() for m in map(_ROW.match, text.splitlines()) if m}


def expectation(expected: str) -> str:
    """'read', 'refuse' or 'either' from the Expected wording."""
    if expected.startswith("succeed") and " or fail" in expected:
        return "either"
    if expected.startswith("succeed"):
        return "read"
    return "refuse"


@pytest.fixture(scope="module")
def results() -> dict[str, Document | IngestFailure]:
    if not (SHARED_CORPUS / "MANIFEST.md").exists():
        pytest.skip("../shared/corpus not present (the sweep needs ../shared)")
    return {r.path: r for r in iter_documents([SHARED_CORPUS])}  # names relative to the folder


def test_manifest_lists_sixty_files() -> None:
    if not (SHARED_CORPUS / "MANIFEST.md").exists():
        pytest.skip("../shared/corpus not present")
    assert len(manifest()) == 60


def test_every_file_read_or_refused_as_expected(results: dict[str, Document | IngestFailure]) -> None:
    wrong = []
    for relative, expected in manifest().items():
        result, want = results[relative], expectation(expected)
        got = "read" if isinstance(result, Document) else "refuse"
        if want != "either" and got != want:
            wrong.append(f"{relative}: expected {want}, got {got} ({getattr(result, 'reason', '')})")
    assert wrong == []


def test_refusals_name_a_reason_and_reads_have_text(results: dict[str, Document | IngestFailure]) -> None:
    for relative, result in results.items():
        if isinstance(result, IngestFailure):
            assert len(result.reason) > 15, relative
        elif relative in manifest():
            assert result.text.strip(), relative
            assert all(result.text[b.start:b.start + len(b.text)] == b.text for b in result.blocks)
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", result.text), relative


def test_password_files_read_with_their_password() -> None:
    for relative, password in PASSWORDS.items():
        path = SHARED_CORPUS / relative
        if not path.exists():
            pytest.skip("../shared/corpus not present")
        assert read_document(path, password=password).text


def test_expected_reasons(results: dict[str, Document | IngestFailure]) -> None:
    """The refusals say what the MANIFEST asks them to say."""
    wanted = {"pdf/password-example.pdf": "password-protected", "pdf/empty.pdf": "empty file",
              "pdf/ocr_test_rotated_90.pdf": "scanned/image-only PDF, OCR not supported",
              "docx/empty.docx": "no text found", "pptx/no-slides.pptx": "no slides",
              "xlsx/bigfoot.xlsx": "no text found", "csv/empty.csv": "no data",
              "xlsx/password_protected.xlsx": "password-protected",
              "xlsx/null_archive.xlsx": "not a valid Excel workbook (.xlsx)",
              "other/fake.doc": "unsupported format (.doc)", "other/tests-example.xls": "save as .xlsx"}
    for relative, phrase in wanted.items():
        result = results[relative]
        assert isinstance(result, IngestFailure) and phrase in result.reason, relative
