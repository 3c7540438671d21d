"""What is done for one input file, whichever engine runs it: read, identify stage 1, chunk.

A worker reads a file part by part (a large CSV/TXT/XLSX comes in parts of bounded size) and keeps
only what the run needs: the verbatim examples stage 1 found and the chunks, with spans and chunk
numbers counted over the whole file, so the output is the same as reading it in one piece, and the
same whichever worker (or how many) did it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from src.agents.identify_agent import IdentifyAgent
from src.config import Config, agent_choice
from src.ingest.chunker import chunk_document
from src.ingest.file_processor import iter_summaries, read_input
from src.ingest.inputs import InputFile
from src.models import Chunk, Document, Example, IngestFailure
from src.targets.tokens import count_text_tokens, tokenizer_name

# Runs of 100+ characters of a base64/hex alphabet: encoded data (an inlined image), not prose.
_ENCODED = re.compile(r"[A-Za-z0-9+/=_-]{100,}")
ENCODED_SHARE = 0.5  # a chunk mostly made of such runs holds nothing to write questions from


@dataclass
class Job:
    """What the run needs from every file (picklable: it travels to the workers)."""

    config: Config
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def chunking(self) -> bool:
        return self.config.mode != "identify"

    @property
    def identify(self) -> bool:
        return self.config.mode in ("identify", "hybrid")

    @property
    def keep_documents(self) -> bool:
        """Identify's LLM stage needs the documents themselves (stage 1 then runs with it)."""
        return self.identify and self.config.agent.identify.use_llm


@dataclass
class FileResult:
    """What one file gave: examples (stage 1), chunks, documents (only when kept), or why not."""

    name: str
    parts: int = 0
    examples: list[Example] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    failure: IngestFailure | None = None
    encoded_chunks: int = 0  # chunks dropped as encoded data

    @property
    def read(self) -> bool:
        return self.parts > 0


def process_file(found: InputFile, job: Job) -> FileResult:
    """Read one file and run identify stage 1 and chunking on each part, as the job asks."""
    config = job.config
    result = FileResult(found.name)
    stage1 = IdentifyAgent(config) if job.identify and not job.keep_documents else None
    chunker = chunk_function(config) if job.chunking else None
    for item in read_input(found, config.input, job.passwords):
        if isinstance(item, IngestFailure):
            result.failure = item
            break
        result.parts += 1
        if stage1 is not None:
            result.examples += shift_examples(stage1.stage1(item), item.offset)
        if chunker is not None:
            _add_chunks(result, chunker(item), item.offset)
        if job.keep_documents:
            result.documents.append(item)
        del item  # the part goes before the next one is read
    return result


def shift_examples(examples: list[Example], offset: int) -> list[Example]:
    """Spans of a part's examples, counted in the whole file's text."""
    if offset:
        for ex in examples:
            if ex.span is not None:
                ex.span = (ex.span[0] + offset, ex.span[1] + offset)
    return examples


def _add_chunks(result: FileResult, chunks: list[Chunk], offset: int) -> None:
    """Add a part's chunks, numbered and placed in the whole file; drop encoded-data chunks."""
    base = len(result.chunks) + result.encoded_chunks  # chunks of the earlier parts
    for chunk in chunks:
        chunk.index += base
        chunk.id = f"{chunk.source_file}#{chunk.index}"
        chunk.start, chunk.end = chunk.start + offset, chunk.end + offset
        if looks_encoded(chunk.text):
            result.encoded_chunks += 1
        else:
            result.chunks.append(chunk)


def looks_encoded(text: str) -> bool:
    """True for a passage mostly made of base64/hex-like runs (an inlined image, a key dump)."""
    encoded = sum(len(m) for m in _ENCODED.findall(text))
    return encoded > ENCODED_SHARE * len(text)


def chunk_function(config: Config) -> Callable[[Document], list[Chunk]]:
    """Chunks of one document, sized in tokens of the agent model."""
    provider, model = agent_choice(config)

    def chunks(doc: Document) -> list[Chunk]:
        return chunk_document(doc, config.chunking.chunk_tokens,
                              lambda text: count_text_tokens(text, provider, model),
                              overlap_tokens=config.chunking.overlap_tokens,
                              min_tokens=config.chunking.min_chunk_tokens)
    return chunks


def summarize_file(found: InputFile, job: Job) -> list[dict]:
    """What `ingest` shows for one file: its summary (the parts added up), or its failure."""
    provider, model = job.config.system.agentic_llm, job.config.system.agentic_model
    unit = f"tokens ({tokenizer_name(provider, model)})"
    results = read_input(found, job.config.input, job.passwords)
    return list(iter_summaries(results, lambda t: count_text_tokens(t, provider, model), unit))
