"""Identify on the second labelled set (tests/data/identify2), read from real files, and on the
real corpus: precision, recall and verbatim share with the shipped config.yaml.

The set was written apart from the detector (other people, products, languages and layouts than
tests/data/identify): FAQ PDFs whose questions are set apart only by bold or larger type, FAQ
entries that are statements or lack '?', e-mail threads, headerless two-column sheets, ticket
exports, chat logs in several timestamp notations, multi-turn transcripts with filler, Bengali,
and documents without Q&A that look like FAQs. `tuned` is what the detector was developed
against; `heldout` and `heldout2` were scored once before any change made for them (the figures
of that first look are in the branch note).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from src.agents.identify_agent import IdentifyAgent
from src.config import PROJECT_ROOT, load_config
from src.detect.lines import norm
from src.ingest.file_processor import iter_documents, read_document
from src.models import Document, Example
from tests.conftest import SHARED_CORPUS
from tests.labelled_set import PARTS, SET2, Score, score_set2, set2_files, set2_labels

ALL_PARTS = PARTS + ("heldout2",)
AIM_PRECISION, AIM_RECALL, AIM_VERBATIM = 0.97, 0.95, 0.99


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    out = tmp_path_factory.mktemp("identify2")
    return {part: set2_files(part, out) for part in ALL_PARTS}


def shipped_identify(source: Path | Document) -> list[Example]:
    """Identify as `generate --mode identify` runs it with the shipped config.yaml (stage 1)."""
    agent = IdentifyAgent(load_config(PROJECT_ROOT / "config.yaml"))
    return agent.stage1(source if isinstance(source, Document) else read_document(source))


def test_the_set_is_big_varied_and_has_documents_without_qa() -> None:
    labels = {f"{part}/{name}": convs for part in ALL_PARTS for name, convs in set2_labels(part).items()}
    assert len(labels) >= 50
    assert sum(1 for convs in labels.values() if not convs) >= 12
    assert sum(len(convs) for convs in labels.values()) >= 130
    formats = {name.split(".")[-2] if name.endswith(".src") else name.rsplit(".", 1)[1]
               for name in labels}
    assert {"pdf", "docx", "xlsx", "csv", "txt", "md"} <= formats
    assert any(len(conv) > 2 for convs in labels.values() for conv in convs)  # multi-turn


@pytest.mark.parametrize("part", ALL_PARTS)
def test_every_label_is_text_of_its_document(part: str, documents: dict[str, dict[str, Path]]) -> None:
    """Guards the labels against typos: each sentence of each labelled turn is in the document."""
    labels = set2_labels(part)
    for name, path in documents[part].items():
        text = norm(read_document(path).text)
        for conv in labels[name]:
            for _, turn in conv:
                for piece in re.split(r"(?<=[.!?।:])\s+", norm(turn)):
                    assert piece in text, f"{name}: {piece!r}"


def _line_fonts(path: Path, starts: str) -> set[tuple[str, float]]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        words = pdf.pages[0].extract_words(extra_attrs=["fontname", "size"])
    top = next(w["top"] for w in words if w["text"] == starts)
    return {(w["fontname"], round(w["size"], 1)) for w in words if abs(w["top"] - top) < 1}


def test_generated_pdfs_set_questions_apart_by_font_only(documents: dict[str, dict[str, Path]]) -> None:
    """The questions carry no 'Q:' and no number: only bold (t01) or larger type (t02)."""
    bold = _line_fonts(documents["tuned"]["t01_dental_faq.pdf.src"], "soon")
    body = _line_fonts(documents["tuned"]["t01_dental_faq.pdf.src"], "Routine")
    assert bold == {("Helvetica-Bold", 10.0)} and body == {("Helvetica", 10.0)}
    larger = _line_fonts(documents["tuned"]["t02_ferry_faq.pdf.src"], "Bicycles")
    assert larger == {("Times-Roman", 13.0)}


@pytest.mark.parametrize("part", ALL_PARTS)
def test_shipped_config_meets_the_aims(part: str, tmp_path: Path) -> None:
    score: Score = score_set2(part, tmp_path, shipped_identify)
    print(f"\nidentify on identify2/{part}: {score.line()}")
    assert score.false_positive_documents == [], score.misses
    assert score.precision >= AIM_PRECISION, score.misses
    assert score.recall >= AIM_RECALL, score.misses
    assert score.verbatim_share >= AIM_VERBATIM, score.misses


def test_scoring_counts_misses_partial_and_false_conversations() -> None:
    from tests.labelled_set import score_document

    score = Score()
    want = [[("user", "How old must I be?"), ("assistant", "Sixteen or older.")],
            [("user", "Do you rent helmets?"), ("assistant", "Yes, for free.")]]
    found = [[("user", "How old must I be?"), ("assistant", "Sixteen or older. Page 2")],
             [("user", "Opening hours"), ("assistant", "From nine to five.")]]
    score_document(score, "doc", found, want)
    assert (score.tp, score.fp, score.fn, score.verbatim) == (1, 1, 1, 0)
    score_document(score, "negative", found[1:], [])
    assert score.false_positive_documents == ["negative"]


def test_set_readme_names_every_part() -> None:
    readme = (SET2 / "README.md").read_text(encoding="utf-8")
    assert all(part in readme for part in ALL_PARTS)


# ------------------------------------------------------------------ the real corpus

# Files of ../shared/corpus that hold conversations (FAQ tables and pages, transcripts, a play).
CORPUS_WITH_QA = {"csv/MT_ar_faq_covidbert.csv", "csv/faq_200322_16.tsv", "csv/faq_covidbert.csv",
                  "md/docling_faq_index.md", "md/pypdf_faq.md", "txt/spacelog_ma8_TEC.txt",
                  "txt/tinyshakespeare_input.txt", "xlsx/xlsx_06_edge_cases_.xlsx"}


def test_corpus_files_without_qa_give_nothing() -> None:
    if not SHARED_CORPUS.exists():
        pytest.skip("../shared/corpus not present (the identify sweep needs ../shared)")
    wrong, read = [], 0
    for doc in iter_documents([SHARED_CORPUS]):
        if not isinstance(doc, Document):
            continue
        relative = doc.path  # named relative to the folder walked
        found = shipped_identify(doc) if relative not in CORPUS_WITH_QA else None
        read += 1
        if found:
            wrong.append(f"{relative}: {len(found)}, first {found[0].question[:60]!r}")
    assert read >= 50
    assert wrong == []
