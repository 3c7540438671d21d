"""Everything a run does before its first paid call: read, chunk, cap the size, estimate the cost.

`prepare()` returns a `Plan` that the menu and `generate` show for confirmation; nothing is sent to
any provider and nothing is stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from src.agents.free_agent import load_free_prompt
from src.agents.hybrid_agent import hybrid_targets
from src.agents.identify_agent import IdentifyAgent
from src.config import Config, project_path
from src.engine.engines import engine_for
from src.engine.work import Job
from src.errors import InputFileError, UsageError
from src.ingest.inputs import walk
from src.ingest.redact import redact
from src.models import Chunk, Document, Example, IngestFailure
from src.providers.llm_client import Estimate, require_agent
from src.providers.llm_client import estimate as client_estimate
from src.quality.decontaminate import EvalSets, load_eval_sets
from src.quality.judge import judge_load
from src.targets import catalog
from src.utils.text import printable_name

MAX_PASSES = 3  # how many times create mode may go back over the same chunk with new questions
EXPECTED_ACCEPTANCE = 0.7  # first guess of the share of created pairs that pass quality


@dataclass
class SizeCap:
    """Identify found more conversations than the dataset size keeps (said before the run)."""

    found: int
    keeping: int
    reason: str  # why only `keeping` are kept
    keep_all: int | None = None  # the dataset_size that keeps them all (None: no size does)
    keep_all_kept: int = 0  # how many that size keeps (the target's limits may cap it)

    @property
    def message(self) -> str:
        head = (f"Identify found {self.found:,} conversation(s); keeping {self.keeping:,} because "
                f"{self.reason}.")
        if self.keep_all is None:
            return head + " Lower agent.hybrid.generation_ratio to keep them."
        if self.keep_all_kept >= self.found:
            return head + f" --size {self.keep_all:,} (or Keep all in the menu) keeps all."
        return head + (f" The target takes at most {self.keep_all:,} examples: --size "
                       f"{self.keep_all:,} (or Keep all in the menu) keeps {self.keep_all_kept:,}.")


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
    estimate: Estimate | None = None  # for LLM modes
    free_prompt: str | None = None
    size_cap: SizeCap | None = None  # identify found more than the size keeps
    contamination: EvalSets | None = None  # quality.decontaminate / --decontaminate, read up front

    @property
    def needs_llm(self) -> bool:
        return needs_llm(self.config)


def needs_llm(config: Config) -> bool:
    return config.mode != "identify" or config.agent.identify.use_llm


# ---------------------------------------------------------------- prepare (free)

def input_paths(config: Config) -> list[Path]:
    path = project_path(config.input.directory)
    if not path.exists():
        raise UsageError(f"input.directory {printable_name(str(path))} does not exist. Put your "
                         "documents in input_files/ or pass --input DIR.")
    return [path]


def prepare(config: Config, free_prompt: str | None = None,
            passwords: dict[str, str] | None = None, progress: bool = False) -> Plan:
    """Read the input, chunk it, cap the size and estimate the cost; sends nothing anywhere."""
    catalog.get_model(config.provider, config.model)  # unknown target → ConfigError
    if needs_llm(config):
        require_agent(config)  # no key, model or price: stops here, before anything is read
    decision = catalog.validate_dataset_size(config.dataset_size, config.provider, config.model)
    plan = Plan(config, decision.size)
    if decision.capped:
        plan.messages.append(decision.message)
    plan.messages += decision.warnings  # e.g. below the target's minimum number of examples
    lifecycle = catalog.lifecycle_warning(config.provider, config.model)
    if lifecycle:
        plan.messages.append(lifecycle)
    plan.contamination = eval_sets(config, plan.messages)
    read_inputs(plan, passwords, progress)
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
        if config.mode == "hybrid" and not config.agent.identify.use_llm:  # else known later
            note = hybrid_note(plan.size, config.agent.hybrid.generation_ratio, len(plan.extracted))
            plan.messages += [note] if note else []
        plan.estimate = estimate_cost(plan)
    if config.mode in ("identify", "hybrid"):
        plan.size_cap = size_cap(plan)
    return plan


def identify_quota(config: Config, size: int) -> int:
    """How many identified conversations a dataset of `size` keeps (hybrid: its identified half)."""
    if config.mode == "hybrid":
        return hybrid_targets(size, config.agent.hybrid.generation_ratio)[1]
    return size


def size_cap(plan: Plan) -> SizeCap | None:
    """What the size would drop of what identify stage 1 found, and the size that keeps it all."""
    config = plan.config
    found = len(plan.extracted) if plan.extracted or not plan.documents else \
        len(IdentifyAgent(config).stage1_all(plan.documents))
    keeping = identify_quota(config, plan.size)
    if found <= keeping:
        return None
    ratio = config.agent.hybrid.generation_ratio
    if config.mode == "hybrid" and ratio >= 1:
        return SizeCap(found, keeping, f"agent.hybrid.generation_ratio is {ratio}")
    wanted = found if config.mode == "identify" else math.ceil(found / (1 - ratio))
    while identify_quota(config, wanted) < found:
        wanted += 1
    allowed = catalog.validate_dataset_size(wanted, config.provider, config.model).size
    reason = f"dataset_size is {plan.size:,}" if config.mode == "identify" else (
        f"hybrid keeps {keeping:,} identified of dataset_size {plan.size:,} "
        f"(agent.hybrid.generation_ratio {ratio})")
    return SizeCap(found, keeping, reason, allowed, min(found, identify_quota(config, allowed)))


def keep_all(plan: Plan) -> None:
    """Raise this run's size so every identified conversation is kept (the menu's Keep all)."""
    if plan.size_cap is None or plan.size_cap.keep_all is None or plan.size_cap.keep_all <= plan.size:
        return
    plan.size = plan.config.dataset_size = plan.size_cap.keep_all
    if plan.estimate is not None:
        plan.estimate = estimate_cost(plan)
    plan.size_cap = size_cap(plan)


def eval_sets(config: Config, messages: list[str]) -> EvalSets | None:
    """The evaluation sets to decontaminate against, read before anything is paid for."""
    if not config.quality.decontaminate:
        return None
    try:
        sets = load_eval_sets([project_path(p) for p in config.quality.decontaminate])
    except InputFileError as exc:
        raise UsageError(str(exc)) from None
    messages.append(sets.describe())
    return sets


def read_inputs(plan: Plan, passwords: dict[str, str] | None = None,
                progress: bool = False) -> None:
    """Read every input file once (on every core, or the Ray cluster), keeping only what the mode
    needs; results come back in file order, whatever the number of workers."""
    config = plan.config
    found = list(walk(input_paths(config), config.input))
    encoded: list[str] = []
    with engine_for(config, progress) as engine:
        for result in engine.map_files(found, Job(config, passwords or {})):
            if result.failure is not None:
                plan.skipped.append(result.failure)
            if result.read:
                plan.read.append(result.name)
            plan.chunks += result.chunks
            plan.extracted += result.examples
            plan.documents += result.documents
            if result.encoded_chunks:
                encoded.append(f"{result.name} ({result.encoded_chunks})")
    if encoded:
        plan.messages.append("Skipped passages of encoded data (base64 or similar, nothing to "
                             "write questions from) in " + ", ".join(encoded) + ".")
    if not plan.read:
        reasons = "".join(f"\n  skipped {f.path}: {f.reason}" for f in plan.skipped[:10])
        more = f"\n  ... and {len(plan.skipped) - 10} more" if len(plan.skipped) > 10 else ""
        raise UsageError(f"Nothing readable in {config.input.directory} "
                         f"({len(plan.skipped)} file(s) skipped). Add PDF, DOCX, TXT/MD, CSV, "
                         "XLSX or PPTX files there, or choose another input folder (--input DIR, "
                         f"or Configure Dataset in the menu).{reasons}{more}")


def redact_chunks(chunks: list[Chunk]) -> str:
    """Replace personal data in chunk text before anything is sent; returns what was redacted."""
    total: dict[str, int] = {}
    for chunk in chunks:
        chunk.text, counts = redact(chunk.text)
        for kind, n in counts.items():
            total[kind] = total.get(kind, 0) + n
    found = ", ".join(f"{n} {kind}" for kind, n in sorted(total.items()) if n) or "nothing found"
    return f"privacy.redact_pii is on: redacted {found} before sending (the dataset keeps the " \
           "redacted text)."


def created_target(plan: Plan) -> int:
    """How many samples the create part must make: all of them, or in hybrid mode what identify
    leaves (its share, or more when the documents hold fewer conversations than that)."""
    config = plan.config
    if config.mode != "hybrid":
        return plan.size
    quota = hybrid_targets(plan.size, config.agent.hybrid.generation_ratio)[1]
    found = quota if config.agent.identify.use_llm else min(quota, len(plan.extracted))
    return plan.size - found  # with the LLM stage, identify's yield is unknown before the run


def hybrid_note(size: int, generation_ratio: float, found: int) -> str:
    """What hybrid's mix becomes when identify found fewer conversations than its share."""
    create, quota = hybrid_targets(size, generation_ratio)
    if found >= quota:
        return ""
    what = "no conversations" if not found else f"only {found} conversation(s)"
    return (f"hybrid: identify found {what} in the documents (its share is {quota}), so "
            f"{size - found} of the {size} samples will be created instead of {create}.")


def estimate_cost(plan: Plan) -> Estimate:
    """Requests, tokens, cost and time for the create/free part of a run (no client needed)."""
    config = plan.config
    per_chunk = config.agent.create.questions_per_chunk
    needed = math.ceil(created_target(plan) / (per_chunk * EXPECTED_ACCEPTANCE))
    # run._create_loop never sends a batch of fewer than system.concurrency slots
    slots = min(max(needed, config.system.concurrency) if needed else 0,
                len(plan.chunks) * MAX_PASSES)
    calls = 1 if config.mode == "free" else 2
    mean_chunk = sum(c.tokens for c in plan.chunks) / max(1, len(plan.chunks))
    turns = config.agent.create.turns
    input_tokens = int(slots * calls * (mean_chunk + 350))
    output_tokens = int(slots * per_chunk * turns * (60 + 180))
    requests = slots * calls
    if config.quality.llm_judge:  # the judge reads each chunk again with its samples
        judge = judge_load(slots, per_chunk, mean_chunk)
        requests, input_tokens, output_tokens = (requests + judge[0], input_tokens + judge[1],
                                                 output_tokens + judge[2])
    return client_estimate(config, requests, input_tokens, output_tokens)


