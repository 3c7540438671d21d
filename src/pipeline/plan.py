"""Everything a run does before its first paid call: read, chunk, cap the size, estimate the cost.

`prepare()` returns a `Plan` that the menu and `generate` show for confirmation; nothing is sent to
any provider and nothing is stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from src.agents.base_agent import interleave_by_source
from src.agents.create_agent import MAX_PASSES, CreateAgent, Slot, chunk_capacity, questions_for
from src.agents.free_agent import FreeAgent, load_free_prompt
from src.agents.hybrid_agent import hybrid_targets, with_avoid_lists
from src.agents.identify_agent import IdentifyAgent
from src.config import Config, agent_choice, base_url, project_path
from src.engine.engines import engine_for
from src.engine.work import Job
from src.errors import InputFileError, UsageError
from src.ingest.inputs import walk
from src.ingest.redact import redact
from src.models import Chunk, Document, Example, IngestFailure
from src.providers.base_provider import Request
from src.providers.llm_client import Estimate, request_tokens, require_agent
from src.providers.llm_client import estimate as client_estimate
from src.providers.speed import agent_key, load
from src.quality.decontaminate import EvalSets, load_eval_sets
from src.quality.judge import judge_load
from src.targets import catalog
from src.utils.text import printable_name

EXPECTED_ACCEPTANCE = 0.85  # first guess of the share of created pairs that pass quality
OUTPUT_TOKENS_PER_TURN = 120  # first guess of a question, its answer and their JSON, in tokens


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
    capacity: int = 0  # the most pairs these chunks can give (create, hybrid, free)

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
        plan.capacity = sum(chunk_capacity(c, config.agent.create.questions_per_chunk)
                            for c in plan.chunks)
        note = capacity_note(plan)
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


def capacity_note(plan: Plan) -> str:
    """What to expect when the chunks cannot give what is asked (said before the run)."""
    wanted, most = created_target(plan), plan.config.agent.create.questions_per_chunk
    likely = int(plan.capacity * EXPECTED_ACCEPTANCE)
    if wanted <= likely:
        return ""
    capped = sum(questions_for(c, most) == most for c in plan.chunks)
    raise_it = (f", raise agent.create.questions_per_chunk ({most}: {capped} of the chunks "
                "could take more questions)" if capped else "")
    head = (f"These {len(plan.chunks):,} chunks can give at most {plan.capacity:,} pairs "
            f"({MAX_PASSES} passes; about {likely:,} once the quality checks reject some)")
    if wanted > plan.capacity:
        return (f"{head}, fewer than the {wanted:,} to create: the run will stop short. Add "
                f"documents{raise_it}, or ask for a smaller size.")
    return (f"{head}: the {wanted:,} to create may not all be reached. Add documents"
            f"{raise_it}, or ask for a smaller size.")


def writer_for(config: Config, client, free_prompt: str | None = None) -> CreateAgent | FreeAgent:
    """The agent that writes samples in this mode (create and hybrid, or free)."""
    if config.mode == "free":
        return FreeAgent(config, client, free_prompt or "")
    return CreateAgent(config, client, mode=config.mode)


def work_order(plan: Plan, extracted: list[Example]) -> list[Slot]:
    """Every work item create mode may do, in the order it does them: each chunk once, spread
    over the files, then each again on the next pass."""
    ordered = interleave_by_source(plan.chunks)
    slots = [Slot(chunk, p) for p in range(MAX_PASSES) for chunk in ordered]
    return with_avoid_lists(slots, extracted) if plan.config.mode == "hybrid" else slots


def estimate_cost(plan: Plan) -> Estimate:
    """Requests, tokens, cost and time for the create/free part of a run (no client needed):
    the work items the run would send, in its order, until their expected accepted pairs reach
    the target; each request's input counted as it will be sent."""
    config = plan.config
    provider, model = agent_choice(config)
    writer = writer_for(config, None, plan.free_prompt)
    pace = load(agent_key(provider, model, base_url(provider, config)))
    need: float = created_target(plan)
    requests, input_tokens, output_tokens, asked = 0, 0, 0.0, 0
    for slot in work_order(plan, plan.extracted):
        if need <= 0:
            break
        sent = writer.request(slot)
        requests += 1
        input_tokens += request_tokens(Request(model, sent.system, sent.user, sent.schema),
                                       provider)
        output_tokens += (sent.max_tokens * pace.output_share if pace.output_share else
                          sent.asked * config.agent.create.turns * OUTPUT_TOKENS_PER_TURN)
        asked += sent.asked
        need -= sent.asked * EXPECTED_ACCEPTANCE
    if config.quality.llm_judge:  # the judge reads each chunk again with its samples
        mean_chunk = sum(c.tokens for c in plan.chunks) / max(1, len(plan.chunks))
        judge = judge_load(requests, math.ceil(asked / max(1, requests)), mean_chunk)
        requests, input_tokens, output_tokens = (requests + judge[0], input_tokens + judge[1],
                                                 output_tokens + judge[2])
    return client_estimate(config, requests, input_tokens, int(output_tokens), samples=plan.size)
