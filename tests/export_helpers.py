"""Stored datasets for export tests: grounded Q&A with sources, splits and both origins."""

from __future__ import annotations

from src.config import db_path
from src.models import Example, Turn
from src.persistence.sqlite_client import Database

PASSAGE = ("Admissions open on 1 May. The tuition fee is 150,000 rupees per year, paid in two "
           "instalments. Hostel rooms cost 60,000 rupees per year and are shared by two students. "
           "Scholarships cover up to half of the tuition for students with 90 percent or more.")
QA = [("When do admissions open?", "Admissions open on 1 May."),
      ("How much is the tuition fee?", "The tuition fee is 150,000 rupees per year, paid in two "
                                       "instalments."),
      ("What does a hostel room cost?", "Hostel rooms cost 60,000 rupees per year and are shared "
                                        "by two students."),
      ("Who gets a scholarship?", "Scholarships cover up to half of the tuition for students "
                                  "with 90 percent or more.")]


def examples(n: int, split_every: int | None = 5, system: str | None = "Answer from the handbook.",
             multi_every: int = 3) -> list[Example]:
    """n samples; every `multi_every`-th is two-turn; the context holds every answer verbatim."""
    out = []
    for i in range(n):
        q, a = QA[i % len(QA)]
        turns = [Turn("user", f"{q} (case {i})"), Turn("assistant", f"{a} Case {i}.")]
        if i % multi_every == 0:
            q2, a2 = QA[(i + 1) % len(QA)]
            turns += [Turn("user", q2), Turn("assistant", a2)]
        ex = Example(turns=turns, system=system, source_file=f"handbook{i % 2}.pdf",
                     context=PASSAGE + f" Case {i}.", topic_keywords=["fees", f"k{i}"],
                     token_length=30 + i, mode="hybrid",
                     origin="synthetic" if i % 2 else "extracted", location=f"page {i}",
                     scores={"overall": 0.8})
        if split_every:
            ex.split = "validation" if i % split_every == 0 else "train"
        out.append(ex)
    return out


def store(name: str, items: list[Example], provider: str = "openai",
          model: str = "gpt-4o-mini", config: dict | None = None) -> None:
    with Database(db_path()) as db:
        dataset_id = db.upsert_dataset(name, provider, model, "hybrid", config or {
            "system": {"agentic_llm": "openai", "agentic_model": "gpt-4o-mini",
                       "base_urls": {"llama": "http://user:secret-pass@10.0.0.1:8000/v1"}},
            "output": {"format": "native"}})
        db.save_examples(dataset_id, items)
        db.refresh_totals(dataset_id)
