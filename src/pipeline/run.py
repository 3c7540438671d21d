"""The one place the stages are wired together, after `plan.prepare()`.

ingest → chunk → agent → quality → dedup → size cap and validation → split → SQLite → export.

`execute()` runs the paid part. Samples are saved batch by batch as they are produced, and every
paid response is cached by the LLM client, so an interrupted run resumes from where it stopped
without paying twice or storing duplicates.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

from src.agents.base_agent import AgentOutput, ItemFailure, client_for, stable_id
from src.agents.create_agent import WRITER_SCHEMA, Slot, questions_for
from src.agents.identify_agent import IdentifyAgent
from src.config import Config, agent_choice, base_url, db_path
from src.engine.engines import Engine, engine_for
from src.engine.ray_engine import RayAgents, RayEngine
from src.engine.work import shift_examples
from src.errors import UsageError
from src.export.paths import safe_output_name
from src.models import Example
from src.persistence.backup import check_and_backup
from src.persistence.locks import dataset_lock
from src.persistence.sqlite_client import Database
from src.pipeline.finish import finish_dataset
from src.pipeline.plan import (
    EXPECTED_ACCEPTANCE,
    Plan,
    hybrid_note,
    identify_quota,
    prepare,
    work_order,
    writer_for,
)
from src.pipeline.processor import Processor, RunLog
from src.pipeline.result import RunResult
from src.pipeline.stream import Shape, WorkStream
from src.providers.batch_client import BatchLLMClient
from src.providers.llm_client import LLMClient, failure_category
from src.providers.speed import agent_key, fit
from src.providers.speed import save as remember_pace
from src.quality.judge import judge_examples

# ---------------------------------------------------------------- execute (paid)

def execute(plan: Plan, progress: bool = True) -> RunResult:
    """Run the agents and every later stage; returns the summary. Ctrl-C keeps what was saved."""
    config = plan.config
    if config.mode == "free" and not plan.free_prompt:
        raise UsageError(f"Free mode needs instructions: write them in "
                         f"{config.agent.free.prompt_file} (see prompts/free_mode/README.md), "
                         "or run the menu to type them in.")
    with dataset_lock(safe_output_name(config.output_name), "generate"):
        check_and_backup(db_path(), config.system.backups_keep)
        return _execute(plan, progress)


def _execute(plan: Plan, progress: bool) -> RunResult:
    """Generate, then finish (split, export); the run is `done` only once its files are written."""
    config = plan.config
    with Database(db_path()) as db, engine_for(config, progress) as engine:
        log = RunLog.start(db, config, plan, run_id=uuid.uuid4().hex[:12])
        processor = Processor(config, db, log, plan.size, progress, scorer=engine.score)
        status = "failed"
        try:
            started = time.monotonic()
            asyncio.run(_generate(plan, db, processor, log, engine))
            processor.close()
            processor.release()
            log.record_spent()
            finishing = time.monotonic()
            result = finish_dataset(processor)
            _remember_pace(plan, log, time.monotonic() - finishing, result.counts["samples"])
            result.summary["seconds"] = round(time.monotonic() - started, 1)
            if plan.estimate is not None:
                result.summary["estimated_seconds"] = round(plan.estimate.total_seconds, 1)
                result.summary["pace_known"] = bool(plan.estimate.speed and
                                                    plan.estimate.speed.measured)
            status = "stopped" if log.stopped_reason else "done"
            return result
        except KeyboardInterrupt:
            log.stopped_reason = "interrupted (Ctrl-C)"
            status = "stopped"
            raise
        finally:
            processor.close()
            log.finish(status, quiet=sys.exc_info()[0] is not None)


async def _generate(plan: Plan, db: Database, processor: Processor, log: RunLog,
                    engine: Engine) -> None:
    config = plan.config
    extracted: list[Example] = []
    on_ray = engine.agents(config, str(db_path()), plan.free_prompt or "") \
        if isinstance(engine, RayEngine) and plan.needs_llm else None
    client = _client(config, db) if plan.needs_llm and (
        on_ray is None or config.agent.identify.use_llm or config.quality.llm_judge) else None
    if client is not None and on_ray is not None:
        on_ray.share_with(client)  # identify's LLM stage and the judge run here, within the cluster's limits
    log.client = client
    try:
        if config.mode in ("identify", "hybrid"):
            extracted = await _identify(plan, client)
            if batch_waiting(client):  # batch mode: identify's LLM stage first, in its own round
                return
            processor.add(extracted, limit=identify_quota(config, plan.size))
            if config.mode == "hybrid" and config.agent.identify.use_llm:  # known only now
                note = hybrid_note(plan.size, config.agent.hybrid.generation_ratio, len(extracted))
                log.messages += [note] if note else []
            if config.mode == "identify":  # stored now: let them go before the dataset is finished
                plan.extracted, plan.documents, extracted = [], [], []
        if config.mode in ("create", "hybrid", "free"):
            await _create_loop(plan, processor, log, extracted, client, on_ray)
    finally:
        if client is not None and on_ray is None:  # the pace of the server, for the next estimate
            log.pace = fit(client.answers)
            log.output_share = client.output_share(WRITER_SCHEMA)
        here = dict(client.totals) if client is not None else None
        log.client_totals = on_ray.client_totals(here) if on_ray is not None else (here or {})
        if log.client_totals.get("budget_note") and log.stopped_reason in ("", "budget"):
            log.stopped_reason = log.client_totals["budget_note"]  # the truth at the end
        if on_ray is not None:
            on_ray.close()
        if client is not None:
            await client.aclose()


def _client(config: Config, db: Database) -> LLMClient:
    """The agent client: live, or in batch mode one that answers from the cache or waits."""
    if config.system.batch:
        return BatchLLMClient(config, db, dataset=safe_output_name(config.output_name))
    return client_for(config, db)


def batch_waiting(client: LLMClient | None) -> bool:
    """Batch mode: some requests of this round wait for the provider's Batch API."""
    return isinstance(client, BatchLLMClient) and bool(client.pending)


def _remember_pace(plan: Plan, log: RunLog, finish_seconds: float, samples: int) -> None:
    """What this run learned of the agent server's pace and of finishing, for the next estimate."""
    if log.pace is not None and log.output_share and plan.config.mode != "identify":
        log.pace.output_share = log.output_share
    provider, model = agent_choice(plan.config)
    remember_pace(agent_key(provider, model, base_url(provider, plan.config)), log.pace,
                  (finish_seconds, samples))


def _runner(plan: Plan, client: LLMClient | None, processor: Processor,
            on_ray: RayAgents | None
            ) -> tuple[Callable[[list[Slot]], Awaitable[list[AgentOutput]]], Shape]:
    """How work items are written and grouped: one by one by the agent here, up to
    `system.concurrency` at a time (batch mode: all a round needs at once, since each only
    notes its request), or in batches by an actor pool on Ray."""
    config = plan.config
    if on_ray is not None:
        async def ray_batch(batch: list[Slot]) -> list[AgentOutput]:
            return await asyncio.to_thread(on_ray.run_each, batch, config.mode,
                                           processor.on_progress)
        return ray_batch, Shape(window=1, least=config.system.concurrency, most=10**9)
    agent = writer_for(config, client, plan.free_prompt)

    async def here(batch: list[Slot]) -> list[AgentOutput]:  # one work item (Shape.most)
        return [await agent.run(batch, on_done=processor.on_progress)]
    return here, Shape(window=10**9 if config.system.batch else config.system.concurrency)


async def _identify(plan: Plan, client) -> list[Example]:
    if not plan.config.agent.identify.use_llm:
        return _stable_ids(plan.extracted)  # stage 1 ran while the files were read
    agent, found = IdentifyAgent(plan.config, client), []
    for doc in plan.documents:  # a part of a large file: spans counted in the whole file
        found += shift_examples(await agent.arun([doc]), doc.offset)
    return _stable_ids(found)


def _stable_ids(examples: list[Example]) -> list[Example]:
    """The detector's ids are random: give each pair one derived from its text, so a re-run finds it."""
    for ex in examples:
        ex.id = stable_id("identify", ex.source_file, ex.span, *(t.content for t in ex.turns))
    return examples


async def _create_loop(plan: Plan, processor: Processor, log: RunLog, extracted: list[Example],
                       client: LLMClient | None, on_ray: RayAgents | None) -> None:
    """Write samples until the target is reached, the chunks run out, or a stop (budget, a
    refused key): work items stream through the agent, each scored as it finishes, kept in
    work order (stream.py)."""
    config = plan.config
    goal = plan.size  # hybrid: identify filled its quota first; created pairs fill the rest
    run, shape = _runner(plan, client, processor, on_ray)
    most = config.agent.create.questions_per_chunk
    # Batch mode asks, before any answer, as if every pair will pass: a round takes up to 24 h,
    # but a request asked beyond the need is paid for nothing; the next round asks for the rest
    # at the share that really passed.
    first_guess = 1.0 if config.system.batch else EXPECTED_ACCEPTANCE
    stream = WorkStream(work_order(plan, extracted), run, shape,
                        asked=lambda slot: questions_for(slot.chunk, most))

    async def finished(output: AgentOutput) -> None:
        if config.quality.llm_judge and processor.accepted_count < goal \
                and not batch_waiting(client):  # else never kept (batch: the judge's own round)
            await _judge(output.examples, client, log, config)
        output.examples = processor.score(output.examples)  # the new ones (resume: not stored yet)
        if output.stopped_reason and not log.stopped_reason:
            log.stopped_reason = output.stopped_reason

    def ready(output: AgentOutput) -> None:
        """Keep a work item's samples, in work order, up to the one that fills the dataset:
        what is stored never depends on how many more happened to be in flight (their paid
        replies stay cached for a larger run). Batch mode keeps nothing while answers are
        still to come: the next round replays the run with them."""
        if processor.accepted_count < goal and not batch_waiting(client):
            log.add_failures(output.failures)
            processor.keep(output.examples, goal)
    await stream.drive(
        need=lambda: goal - processor.accepted_count,
        acceptance=lambda: max(0.1, processor.acceptance_rate(default=first_guess)),
        finished=finished, ready=ready,
        stopped=lambda: bool(log.stopped_reason) or batch_waiting(client))
    log.work_left = len(stream.queue)


async def _judge(examples: list[Example], client, log: RunLog, config: Config) -> None:
    """The grounded LLM judge over a batch of new samples (quality.llm_judge), before they are kept."""
    judged = await judge_examples(examples, client, config.quality)
    log.add_failures([ItemFailure(item, failure_category(exc), str(exc))
                      for item, exc in judged.failures])
    if judged.stopped_reason and not log.stopped_reason:
        log.stopped_reason = judged.stopped_reason


def run(config: Config, free_prompt: str | None = None, progress: bool = True,
        confirm: Callable[[Plan], bool] | None = None,
        passwords: dict[str, str] | None = None) -> RunResult | None:
    """prepare → (confirm) → execute; returns None when the user declines."""
    plan = prepare(config, free_prompt, passwords, progress)
    if confirm is not None and not confirm(plan):
        return None
    return execute(plan, progress)

