"""The one place the stages are wired together.

ingest → chunk → agent → quality → dedup → size cap and validation → split → SQLite → export.

`prepare()` does everything that costs nothing (read files, chunk, cap the size, estimate the cost) so
the menu and `generate` can show it before any paid call; `execute()` runs the rest. Samples are saved
batch by batch as they are produced, and every paid response is cached by the LLM client, so an
interrupted run resumes from where it stopped without paying twice or storing duplicates.
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from src.agents.base_agent import AgentOutput, client_for, interleave_by_source, stable_id
from src.agents.create_agent import CreateAgent, Slot
from src.agents.free_agent import FreeAgent, load_free_prompt
from src.agents.hybrid_agent import hybrid_targets, with_avoid_lists
from src.config import PROJECT_ROOT, Config, agent_choice, db_path, project_path
from src.errors import UsageError
from src.persistence.models import Chunk, Document, Example, IngestFailure
from src.persistence.sqlite_client import Database
from src.stages import Processor, RunLog

MAX_PASSES = 3  # how many times create mode may go back over the same chunk with new questions
EXPECTED_ACCEPTANCE = 0.7  # first guess of the share of created pairs that pass quality


@dataclass
class Plan:
    """What a run will do, known before any paid call."""

    config: Config
    size: int
    read: list[str] = field(default_factory=list)  # paths of the documents read
    skipped: list[IngestFailure] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    # Identify stage 1 runs while reading (free, offline), so documents need not stay in memory;
    # they are kept only when stage 2 (the LLM) needs their full text.
    extracted: list[Example] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # size cap, lifecycle, free-mode notes
    estimate: object | None = None  # llm_client.Estimate for LLM modes
    free_prompt: str | None = None

    @property
    def needs_llm(self) -> bool:
        return needs_llm(self.config)


def needs_llm(config: Config) -> bool:
    return config.mode != "identify" or config.agent.identify.use_llm


@dataclass
class RunResult:
    """The outcome of a run, as `generate --json` prints it."""

    dataset_id: str
    name: str
    mode: str
    target: str
    counts: dict[str, int]
    tokens: int
    cost_usd: float
    requests: int
    files: dict[str, str]
    skipped: list[dict]
    warnings: list[str]
    stopped_reason: str = ""
    failures: dict[str, int] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"dataset_id": self.dataset_id, "name": self.name, "mode": self.mode,
                "target": self.target, "counts": self.counts, "tokens": self.tokens,
                "cost_usd": round(self.cost_usd, 6), "requests": self.requests,
                "files": self.files, "skipped": self.skipped, "warnings": self.warnings,
                "stopped_reason": self.stopped_reason, "failures": self.failures,
                "summary": self.summary}


# ---------------------------------------------------------------- prepare (free)

def input_paths(config: Config) -> list[Path]:
    path = project_path(config.input.directory)
    if not path.exists():
        raise UsageError(f"input.directory {path} does not exist. Put your documents in "
                         "input_files/ or pass --input DIR.")
    return [path]


def display_path(path: str) -> str:
    """A path relative to the project when it lies inside it (shorter in stats, CSV and ids)."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def prepare(config: Config, free_prompt: str | None = None,
            passwords: dict[str, str] | None = None) -> Plan:
    """Read the input, chunk it, cap the size and estimate the cost; sends nothing anywhere."""
    from src.providers import catalog

    catalog.get_model(config.provider, config.model)  # unknown target → ConfigError
    if needs_llm(config):
        from src.providers.llm_client import require_key

        require_key(config)  # a missing key stops here, before anything is read or stored
    decision = catalog.validate_dataset_size(config.dataset_size, config.provider, config.model)
    plan = Plan(config, decision.size)
    if decision.capped:
        plan.messages.append(decision.message)
    plan.messages += decision.warnings  # e.g. below the target's minimum number of examples
    lifecycle = catalog.lifecycle_warning(config.provider, config.model)
    if lifecycle:
        plan.messages.append(lifecycle)
    read_inputs(plan, passwords)
    if config.mode == "free":
        plan.free_prompt = free_prompt or load_free_prompt(config)
    if config.mode != "identify":
        if not plan.chunks and config.mode != "hybrid":
            raise UsageError(f"The documents read hold no passage of at least "
                             f"chunking.min_chunk_tokens ({config.chunking.min_chunk_tokens}) "
                             "tokens to write questions from: add longer documents or lower "
                             "that setting.")
        if config.privacy.redact_pii:
            plan.messages.append(redact_chunks(plan.chunks))
        plan.estimate = estimate_cost(plan)
    return plan


def read_inputs(plan: Plan, passwords: dict[str, str] | None = None) -> None:
    """Read every input file once, keeping only what the mode needs (one document in memory)."""
    from src.agents.identify_agent import IdentifyAgent
    from src.utils.file_processor import iter_documents

    config = plan.config
    chunker = chunk_function(config) if config.mode != "identify" else None
    identify = config.mode in ("identify", "hybrid")
    stage1 = IdentifyAgent(config) if identify and not config.agent.identify.use_llm else None
    for result in iter_documents(input_paths(config), config.input, passwords):
        result.path = display_path(result.path)
        if isinstance(result, IngestFailure):
            plan.skipped.append(result)
            continue
        plan.read.append(result.path)
        if chunker:
            plan.chunks += chunker(result)
        if stage1:
            plan.extracted += stage1.run([result])
        elif identify:
            plan.documents.append(result)
        del result  # let the document go before the next file is read
    if not plan.read:
        reasons = "".join(f"\n  skipped {f.path}: {f.reason}" for f in plan.skipped[:10])
        more = f"\n  ... and {len(plan.skipped) - 10} more" if len(plan.skipped) > 10 else ""
        raise UsageError(f"Nothing readable in {config.input.directory} "
                         f"({len(plan.skipped)} file(s) skipped). Add PDF, DOCX, TXT/MD, CSV, "
                         "XLSX or PPTX files there, or choose another input folder (--input DIR, "
                         f"or Configure Dataset in the menu).{reasons}{more}")


def chunk_function(config: Config) -> Callable[[Document], list[Chunk]]:
    """Chunks of one document, sized in tokens of the agent model."""
    from src.utils.chunker import chunk_document
    from src.utils.token_counter import count_text_tokens

    provider, model = agent_choice(config)

    def chunks(doc: Document) -> list[Chunk]:
        return chunk_document(doc, config.chunking.chunk_tokens,
                              lambda text: count_text_tokens(text, provider, model),
                              overlap_tokens=config.chunking.overlap_tokens,
                              min_tokens=config.chunking.min_chunk_tokens)
    return chunks


def redact_chunks(chunks: list[Chunk]) -> str:
    """Replace personal data in chunk text before anything is sent; returns what was redacted."""
    from src.utils.redact import redact

    total: dict[str, int] = {}
    for chunk in chunks:
        chunk.text, counts = redact(chunk.text)
        for kind, n in counts.items():
            total[kind] = total.get(kind, 0) + n
    found = ", ".join(f"{n} {kind}" for kind, n in sorted(total.items()) if n) or "nothing found"
    return f"privacy.redact_pii is on: redacted {found} before sending (the dataset keeps the " \
           "redacted text)."


def estimate_cost(plan: Plan) -> object:
    """Requests, tokens, cost and time for the create/free part of a run (no client needed)."""
    from src.providers.llm_client import estimate as client_estimate

    config = plan.config
    per_chunk = config.agent.create.questions_per_chunk
    share = config.agent.hybrid.generation_ratio if config.mode == "hybrid" else 1.0
    slots = min(math.ceil(plan.size * share / (per_chunk * EXPECTED_ACCEPTANCE)),
                len(plan.chunks) * MAX_PASSES)
    calls = 1 if config.mode == "free" else 2
    mean_chunk = sum(c.tokens for c in plan.chunks) / max(1, len(plan.chunks))
    turns = config.agent.create.turns
    input_tokens = int(slots * calls * (mean_chunk + 350))
    output_tokens = int(slots * per_chunk * turns * (60 + 180))
    return client_estimate(config, slots * calls, input_tokens, output_tokens)


# ---------------------------------------------------------------- execute (paid)

def execute(plan: Plan, progress: bool = True) -> RunResult:
    """Run the agents and every later stage; returns the summary. Ctrl-C keeps what was saved."""
    config = plan.config
    if config.mode == "free" and not plan.free_prompt:
        raise UsageError(f"Free mode needs instructions: write them in "
                         f"{config.agent.free.prompt_file} (see prompts/free_mode/README.md), "
                         "or run the menu to type them in.")
    from src.persistence.backup import check_and_backup

    with dataset_lock(config.output_name):
        check_and_backup(db_path(), config.system.backups_keep)
        return _execute(plan, progress)


def _execute(plan: Plan, progress: bool) -> RunResult:
    config = plan.config
    with Database(db_path()) as db:
        log = RunLog.start(db, config, plan, run_id=uuid.uuid4().hex[:12])
        processor = Processor(config, db, log, plan.size, progress)
        status = "failed"
        try:
            asyncio.run(_generate(plan, db, processor, log))
            status = "stopped" if log.stopped_reason else "done"
        except KeyboardInterrupt:
            log.stopped_reason = "interrupted (Ctrl-C)"
            status = "stopped"
            raise
        finally:
            processor.close()
            log.finish(status)
        return processor.finalize()


@contextmanager
def dataset_lock(name: str) -> Iterator[None]:
    """One run per dataset name at a time (an OS lock: released even if the process is killed)."""
    from src.utils.paths import safe_output_name

    folder = db_path().parent / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{safe_output_name(name)}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"Dataset {name!r} is being generated by another run right now. "
                             "Wait for it to finish (then run again to add to it), or choose "
                             "another --output-name.") from None
        yield


async def _generate(plan: Plan, db: Database, processor: Processor, log: RunLog) -> None:
    config = plan.config
    extracted: list[Example] = []
    client = client_for(config, db) if plan.needs_llm else None
    log.client = client
    try:
        if config.mode in ("identify", "hybrid"):
            extracted = await _identify(plan, client)
            processor.add(extracted, limit=_identify_quota(config, plan.size))
        if config.mode in ("create", "hybrid", "free"):
            await _create_loop(plan, client, processor, log, extracted)
    finally:
        if client is not None:
            log.client_totals = dict(client.totals)
            await client.aclose()


def _identify_quota(config: Config, size: int) -> int:
    if config.mode == "hybrid":
        return hybrid_targets(size, config.agent.hybrid.generation_ratio)[1]
    return size


async def _identify(plan: Plan, client) -> list[Example]:
    from src.agents.identify_agent import IdentifyAgent

    if not plan.config.agent.identify.use_llm:
        return _stable_ids(plan.extracted)  # stage 1 ran while the files were read
    return _stable_ids(await IdentifyAgent(plan.config, client).arun(plan.documents))


def _stable_ids(examples: list[Example]) -> list[Example]:
    """The detector's ids are random: give each pair one derived from its text, so a re-run finds it."""
    for ex in examples:
        ex.id = stable_id("identify", ex.source_file, ex.span, *(t.content for t in ex.turns))
    return examples


def _slots(plan: Plan, extracted: list[Example]) -> list[Slot]:
    ordered = interleave_by_source(plan.chunks)
    slots = [Slot(chunk, p) for p in range(MAX_PASSES) for chunk in ordered]
    return with_avoid_lists(slots, extracted) if plan.config.mode == "hybrid" else slots


async def _create_loop(plan: Plan, client, processor: Processor, log: RunLog,
                       extracted: list[Example]) -> None:
    """Generate in batches until the target is reached, the chunks run out, or the budget stops us."""
    config = plan.config
    agent = (FreeAgent(config, client, plan.free_prompt or "") if config.mode == "free"
             else CreateAgent(config, client, mode=config.mode))
    queue = _slots(plan, extracted)
    goal = plan.size  # hybrid: identify filled its quota first; created pairs fill the rest
    per_slot = config.agent.create.questions_per_chunk
    while queue and processor.accepted_count < goal and not log.stopped_reason:
        need = goal - processor.accepted_count
        rate = max(0.1, processor.acceptance_rate(default=EXPECTED_ACCEPTANCE))
        size = max(config.system.concurrency, math.ceil(need / (per_slot * rate)))
        batch, queue = queue[:size], queue[size:]
        output: AgentOutput = await agent.run(batch, on_done=processor.on_progress)
        processor.add(output.examples, limit=goal)
        log.add_failures(output.failures)
        if output.stopped_reason:
            log.stopped_reason = output.stopped_reason


def run(config: Config, free_prompt: str | None = None, progress: bool = True,
        confirm: Callable[[Plan], bool] | None = None,
        passwords: dict[str, str] | None = None) -> RunResult | None:
    """prepare → (confirm) → execute; returns None when the user declines."""
    plan = prepare(config, free_prompt, passwords)
    if confirm is not None and not confirm(plan):
        return None
    return execute(plan, progress)

