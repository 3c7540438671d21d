"""The local engine: reading, identify stage 1, chunking and scoring on a process pool give what
one worker gives (same examples, chunks, ids, order), and a file read in parts gives what it gives
read whole."""

from __future__ import annotations

import copy
import csv
import shutil
from pathlib import Path

import pytest

from src.config import load_config
from src.engine import local
from src.engine.local import LocalEngine
from src.engine.work import Job, looks_encoded, process_file
from src.ingest.inputs import walk
from src.ingest.readers import budget
from src.pipeline.plan import prepare
from src.quality.scores import score_examples
from tests.pipeline_helpers import SAMPLES, write_config, write_documents

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder)
    for relative in ("pdf/test.pdf", "md/pypdf_faq.md", "csv/bad.csv", "docx/teams_chat.docx"):
        shutil.copy(CORPUS / relative, folder / Path(relative).name)
    write_documents(folder / "guides", files=6, paragraphs=12)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    return folder


def _plan_facts(plan) -> tuple:
    examples = [(ex.source_file, ex.span, ex.location, ex.text, ex.context) for ex in plan.extracted]
    chunks = [(c.id, c.source_file, c.start, c.end, c.tokens, c.location, c.text) for c in plan.chunks]
    return plan.read, [(f.path, f.reason) for f in plan.skipped], examples, chunks


def test_all_cores_read_identify_and_chunk_exactly_as_one_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "POOL_MIN_SECONDS", 0)  # these few files would be read here
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    folder = _folder(tmp_path)
    facts = []
    for workers in (1, 2):
        config = load_config(write_config(tmp_path, mode="hybrid", **{
            "input.directory": str(folder), "system.workers": workers}))
        facts.append(_plan_facts(prepare(config)))
    assert facts[0] == facts[1]
    read, skipped, examples, chunks = facts[0]
    assert len(read) >= 13 and examples and len(chunks) > 20 and skipped[0][0] == "broken.pdf"


def test_scoring_on_the_pool_gives_the_same_scores(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(local, "POOL_MIN_SAMPLES", 10)
    monkeypatch.setattr(local, "SCORE_BATCH", 7)
    config = load_config(write_config(tmp_path, mode="identify",
                                      **{"input.directory": str(SAMPLES)}))
    examples = prepare(config).extracted
    assert len(examples) >= 12
    here = score_examples([copy.deepcopy(ex) for ex in examples], config.quality)
    with LocalEngine(2) as engine:
        engine.score(examples, config.quality)
    assert examples == here  # every field, scores, notes, reasons and claims included
    assert any(ex.claims for ex in examples) and all(ex.scores for ex in examples)


def test_a_file_read_in_parts_gives_what_it_gives_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "faq.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "question", "answer"])
        for i in range(3000):
            writer.writerow([i, f"What is the fee for course {i}?",
                             f"Course {i} costs {i * 7} rupees, payable by 30 June each year."])
    write_documents(folder, files=1, paragraphs=400)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    config = load_config(write_config(tmp_path, mode="hybrid", **{"input.directory": str(folder)}))
    job = Job(config)
    found = [f for f in walk([folder], config.input)]

    def outcome() -> list[tuple]:
        results = [process_file(f, job) for f in found]  # type: ignore[arg-type]
        return [(r.parts > 1, [(e.span, e.text, e.location) for e in r.examples],
                 [(c.id, c.start, c.end, c.text) for c in r.chunks]) for r in results]

    whole = outcome()
    monkeypatch.setattr(budget, "PART_MB", 0.1)
    parted = outcome()
    assert [p[0] for p in parted] == [True, True] and [w[0] for w in whole] == [False, False]
    assert [p[1] for p in parted] == [w[1] for w in whole] and len(whole[0][1]) == 3000
    # chunks never cross a part boundary, so a few are cut differently; each is still a verbatim
    # slice of the whole file and the ids keep counting across parts
    for (_, _, chunks) in parted:
        assert [c[0].rsplit("#", 1)[1] for c in chunks] == [str(i) for i in range(len(chunks))]
    text = (folder / "guide_01.md").read_text()
    assert all(c[3] in text for c in parted[1][2])


def test_encoded_data_is_not_a_passage() -> None:
    blob = "iVBORw0KGgoAAAANSUhEUgAA" * 50
    assert looks_encoded(f"![logo](data:image/png;base64,{blob})")
    assert not looks_encoded("The library opens at 8 am. " * 20)
    assert not looks_encoded("図書館は午前8時に開館します。" * 40)  # no spaces, still prose
