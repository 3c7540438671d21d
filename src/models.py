"""Plain dataclasses shared by every stage: documents in, examples out.

Ingestion yields `Document`s made of `Block`s; the chunker turns them into `Chunk`s; every agent
produces `Example`s (the one internal sample shape the quality, dedup, split, store and export stages
all work on).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(slots=True)  # one Block per CSV/XLSX row: slots keep big tables small
class Block:
    """One piece of a document, in reading order, with where it came from."""

    text: str
    kind: str  # heading | paragraph | list_item | table_row | title | body | notes | row | footnote
    location: str  # human-readable: "page 3", "sheet FAQ row 12", "slide 4", "paragraph 17"
    level: int = 0  # heading level (1 = top) for headings; nesting level for list items
    start: int = 0  # character offset of this block in Document.text
    cells: list[str] | None = None  # table and spreadsheet rows: the cell texts
    header: list[str] | None = None  # spreadsheet/CSV rows: the detected header of their table
    bold: bool = False  # the whole block is bold (a common way to mark questions)


@dataclass
class Document:
    """A readable input file: its blocks and their joined text (blocks separated by a blank line)."""

    path: str
    format: str  # pdf | docx | txt | md | csv | xlsx | pptx
    blocks: list[Block]
    text: str
    units: int = 0  # pages, sheets or slides
    unit_name: str = ""  # "pages" | "sheets" | "slides" | ""
    warnings: list[str] = field(default_factory=list)
    # A large CSV/TSV, TXT/MD or XLSX is read in parts of bounded size, each a Document of its
    # own: `part` counts from 0, `offset` is where this part's text starts in the whole file's
    # text (the parts joined by a blank line), `last_part` is False while more parts follow.
    part: int = 0
    offset: int = 0
    last_part: bool = True


@dataclass
class IngestFailure:
    """A file that could not be read, and why (in words a user can act on)."""

    path: str
    reason: str


@dataclass
class Chunk:
    """A token-bounded, paragraph-preserving piece of one document, for create mode."""

    id: str  # stable: "<file name>#<index>"
    source_file: str
    text: str
    location: str  # location of its first block, e.g. "page 2" or "pages 2-3"
    tokens: int
    index: int
    start: int = 0  # character span in the document's text
    end: int = 0


SURPLUS = "over_size_cap"  # the one reason that is no reject (see Example.surplus)


@dataclass(slots=True)  # slots: a run may hold 100,000 examples of a few turns each
class Turn:
    role: str  # "user" or "assistant"
    content: str


@dataclass(slots=True)  # a few per sample, 100,000s of samples
class Claim:
    """One atomic statement of an answer, and where the source supports it (quality/claims.py)."""

    start: int  # [start, end) of the claim in Example.answer
    end: int
    status: str  # supported | verbatim | unsupported | unchecked (no source text)
    evidence: list[tuple[int, int]] = field(default_factory=list)  # [start, end) spans in Example.context
    missing: list[str] = field(default_factory=list)  # why unsupported: what the source lacks

    @property
    def supported(self) -> bool:
        return self.status in ("supported", "verbatim")


@dataclass(slots=True)  # slots: ~1 KB less per example than a __dict__ of 25 fields
class Example:
    """One conversation with its provenance and scores: the unit every stage passes along."""

    turns: list[Turn]
    system: str | None = None
    mode: str = ""  # create | identify | hybrid | free
    origin: str = ""  # extracted | synthetic
    source_file: str = ""
    location: str = ""
    chunk_id: str = ""
    span: tuple[int, int] | None = None  # extracted text: character span in the document text
    context: str = ""  # the source text the example is grounded in
    topic_keywords: list[str] = field(default_factory=list)
    persona: str = ""
    question_type: str = ""
    domain_entity: str = ""  # the domain-profile entity the sample is about (SetForge field)
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)  # failure categories when rejected
    notes: list[str] = field(default_factory=list)  # human-readable explanation of the scores
    split: str = ""  # train | validation | "" (no split)
    token_length: int = 0
    claims: list[Claim] = field(default_factory=list)  # the answer's claims with their evidence
    judge: dict = field(default_factory=dict)  # the LLM judge's verdict (quality/judge.py), if any
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def question(self) -> str:
        """The first user turn."""
        return next((t.content for t in self.turns if t.role == "user"), "")

    @property
    def answer(self) -> str:
        """All assistant turns joined (the text quality scoring checks against the source)."""
        return "\n".join(t.content for t in self.turns if t.role == "assistant")

    @property
    def text(self) -> str:
        """Every turn's content in order: what dedup and leakage checks compare."""
        return "\n".join(t.content for t in self.turns)

    @property
    def rejected(self) -> bool:
        """Failed a check (a surplus sample has not: it is good, only beyond the size asked for)."""
        return bool(self.reasons) and not self.surplus

    @property
    def surplus(self) -> bool:
        """Passed every check but the dataset already had its size: kept for a larger run."""
        return self.reasons == [SURPLUS]


@dataclass
class CoverageRow:
    """How much one chunk of a source file was used: samples generated, accepted and rejected."""

    chunk_id: str
    source_file: str
    location: str = ""
    generated: int = 0
    accepted: int = 0
    rejected: int = 0
    tokens: int = 0


def reason_counts(examples: Iterable[Example]) -> dict[str, int]:
    """How many of `examples` carry each rejection reason (one may carry two), most frequent first."""
    return dict(Counter(reason for ex in examples for reason in ex.reasons).most_common())
