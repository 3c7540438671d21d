"""The Ray engine (`--engine ray`, `system.engine: ray`): the run's heavy stages on a Ray cluster.

`RAY_ADDRESS` picks the cluster; without it a local Ray is started on this machine (loopback
only, no dashboard). On Ray Data:

- reading, identify stage 1 and chunking: a dataset of file paths, `map` over it (the per-file
  work of `work.process_file`, the same as the local engine's);
- the agent LLM calls: `map_batches` with a pool of actors (`AgentWorker`), each with an LLM
  client whose rate limiter, budget and resume cache are proxies of single named actors
  (`limits.py`), so all workers together keep one rate limit and one budget;
- scoring of a large set of samples: `map` over slices of them.

Results come back to the driver in input order; the driver keeps the one SQLite store, dedup,
the size cap, split and export, so the dataset is the same as the local engine's. The input
files must be readable at the same path on every node (a shared file system) and the nodes
need this project's requirements; the `src` package itself is shipped with the job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import pickle
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from src.agents.base_agent import AgentOutput
from src.agents.create_agent import CreateAgent, Slot
from src.agents.free_agent import FreeAgent
from src.config import BASE_URL_ENV, KEY_ENV, PROJECT_ROOT, Config, QualityConfig, worker_count
from src.engine.limits import BudgetProxy, LimiterProxy, ResponseStore, SharedLimits, StoreProxy
from src.engine.local import POOL_MIN_SAMPLES, SCORE_BATCH, adopt, score_batch
from src.engine.work import FileResult, Job, process_file
from src.errors import UsageError
from src.ingest.inputs import InputFile
from src.models import Example, IngestFailure
from src.providers.llm_client import ATTEMPT_COUNTERS, LLMClient
from src.quality.scores import score_examples

log = logging.getLogger(__name__)
RAY_MISSING = ("The Ray engine needs Ray, which is not installed: run `.venv/bin/pip install -r "
               "requirements-ray.txt` (make test installs it too), or use --engine local.")
LOCAL_OBJECT_STORE_MB = 256  # a local Ray started by us: the shared-memory store it may use
ACTOR_CPUS = 0.25  # an agent actor mostly waits on the network
ENV_PREFIXES = ("DATASET_BUILDER_", "AGENT_")  # passed to every worker with the provider variables
TOTAL_KEYS = ("requests_sent", "cache_hits", "malformed_retries", "input_tokens", "output_tokens",
              "cost_usd", "cached_input_tokens", *ATTEMPT_COUNTERS)


def import_ray() -> Any:
    """The ray module, or a UsageError saying how to install it.

    Before Ray is imported: it sends no usage statistics, and without RAY_ADDRESS (a local Ray of
    our own) every Ray process listens on and talks to 127.0.0.1 only. Ray turns a loopback node
    address into the machine's network address unless its multi-node mode is off, which is what
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 does on any system."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not os.environ.get("RAY_ADDRESS"):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray  # optional and heavy: imported only when the Ray engine is chosen
        import ray.data  # noqa: F401  (Ray Data is part of the ray[data] extra)
    except ImportError:
        raise UsageError(RAY_MISSING) from None
    return ray


def runtime_env() -> dict[str, Any]:
    """What every Ray worker needs from this machine: the `src` package."""
    return {"py_modules": [str(PROJECT_ROOT / "src")]}


def worker_environ() -> dict[str, str]:
    """The variables a worker needs: the agent's key and base URL, our own switches. They travel
    in the actors' arguments (never logged); a long-lived cluster's workers would otherwise keep
    the environment they started with."""
    names = set(KEY_ENV.values()) | set(BASE_URL_ENV.values())
    return {k: v for k, v in os.environ.items() if k in names or k.startswith(ENV_PREFIXES)}


class RayEngine:
    """Runs per-file work, agent calls and scoring on Ray (see the module docstring)."""

    name = "ray"

    def __init__(self, config: Config, progress: bool = False):
        self.ray = import_ray()
        self.config, self.progress = config, progress
        if not self.ray.is_initialized():
            self._connect()
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # its INFO lines are for Ray users
        context = self.ray.data.DataContext.get_current()
        context.print_on_execution_start = False
        context.execution_options.preserve_order = True  # results in input order: determinism
        context.enable_progress_bars = progress
        self.cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def _connect(self) -> None:
        address = os.environ.get("RAY_ADDRESS")
        if address:
            self.ray.init(address=address, runtime_env=runtime_env(), log_to_driver=False,
                          logging_level=logging.WARNING)
        else:  # none given: a small Ray of our own on this machine, loopback only
            self.ray.init(num_cpus=worker_count(self.config), include_dashboard=False,
                          object_store_memory=LOCAL_OBJECT_STORE_MB << 20,
                          _node_ip_address="127.0.0.1", runtime_env=runtime_env(),
                          log_to_driver=False, logging_level=logging.WARNING)

    # ---------------------------------------------------------------- reading

    def map_files(self, found: list[InputFile | IngestFailure], job: Job) -> Iterator[FileResult]:
        """process_file for every file on the cluster, in order (walk failures pass through)."""
        files = [f for f in found if isinstance(f, InputFile)]
        rows: Iterator[dict[str, Any]] = iter(())
        if files:
            items = [{"file": pickle.dumps(f)} for f in files]
            ds = self.ray.data.from_items(items, override_num_blocks=min(len(files), self.cpus * 4))
            rows = iter(ds.map(_read_row, fn_kwargs={"job": pickle.dumps(job),
                                                     "environ": worker_environ()}).iter_rows())
        for item in found:
            if isinstance(item, IngestFailure):
                yield FileResult(item.path, failure=item)
            else:
                yield pickle.loads(next(rows)["result"])

    # ---------------------------------------------------------------- scoring

    def score(self, examples: list[Example], config: QualityConfig) -> None:
        """Quality scores of every example, in place (on the cluster for a large set)."""
        if len(examples) < POOL_MIN_SAMPLES:
            score_examples(examples, config)
            return
        batches = [examples[i:i + SCORE_BATCH] for i in range(0, len(examples), SCORE_BATCH)]
        ds = self.ray.data.from_items([{"batch": pickle.dumps(b)} for b in batches],
                                      override_num_blocks=min(len(batches), self.cpus * 4))
        rows = ds.map(_score_row, fn_kwargs={"config": pickle.dumps(config)}).iter_rows()
        for batch, row in zip(batches, rows):
            adopt(batch, pickle.loads(row["scored"]))

    # ---------------------------------------------------------------- agents

    def agents(self, config: Config, db_path: str, free_prompt: str = "") -> RayAgents:
        """The agent stage of one run: shared limits and store actors, then actor pools per batch."""
        return RayAgents(self, config, db_path, free_prompt)

    def close(self) -> None:
        """Nothing to stop between stages: a local Ray started for this run serves the next
        stage too (reading, then the agents) and stops when the program ends (Ray's own exit
        hook)."""

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RayAgents:
    """Create/free agent work of one run on Ray, with one rate limit, budget and cache."""

    def __init__(self, engine: RayEngine, config: Config, db_path: str, free_prompt: str):
        ray = self.ray = engine.ray
        self.engine, self.config, self.free_prompt = engine, config, free_prompt
        run = uuid.uuid4().hex[:12]
        self.names = (f"dataset-builder-limits-{run}", f"dataset-builder-store-{run}")
        here = ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(
            ray.get_runtime_context().get_node_id(), soft=False)  # SQLite lives on this node
        limits = config.system.rate_limit
        self.limits = ray.remote(SharedLimits).options(
            name=self.names[0], num_cpus=0, scheduling_strategy=here).remote(
            limits.requests_per_minute, limits.tokens_per_minute, config.budget_usd)
        self.store = ray.remote(ResponseStore).options(
            name=self.names[1], num_cpus=0, scheduling_strategy=here).remote(db_path)
        self.actors = max(1, min(engine.cpus, config.system.concurrency))
        self.totals: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    def run_each(self, slots: list[Slot], mode: str,
                 on_done: Callable[[list[Example]], None] | None = None) -> list[AgentOutput]:
        """Every slot through an actor pool; one output per slot, in slot order."""
        per_actor = math.ceil(self.config.system.concurrency / self.actors)
        ds = self.ray.data.from_items([{"i": i, "slot": pickle.dumps(s)} for i, s in enumerate(slots)],
                                      override_num_blocks=min(len(slots), self.actors * 4) or 1)
        kwargs = {"blob": pickle.dumps((self.config, mode, self.free_prompt)),
                  "environ": worker_environ(), "names": self.names, "concurrency": per_actor}
        with warnings.catch_warnings():  # max_restarts=0 is Ray's own advice, given this way
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
            out = ds.map_batches(AgentWorker, batch_size=per_actor, num_cpus=ACTOR_CPUS,
                                 compute=self.ray.data.ActorPoolStrategy(size=self.actors),
                                 fn_constructor_kwargs=kwargs,
                                 max_restarts=0)  # an actor that died is not started again
        outputs: dict[int, AgentOutput] = {}
        for row in out.iter_rows():
            result, totals = pickle.loads(row["out"])
            outputs[row["i"]] = result
            self._add_totals(totals)
            if on_done is not None:
                on_done(result.examples)
        return [outputs[i] for i in range(len(slots))]

    def _add_totals(self, totals: dict[str, Any]) -> None:
        for key in TOTAL_KEYS:
            self.totals[key] += totals.get(key, 0)
        self.failures.update(totals.get("failures", {}))

    def share_with(self, client: LLMClient) -> None:
        """Put a client of the driver (identify's LLM stage, the judge) under the same limits."""
        client.limiter = LimiterProxy(self.limits)  # type: ignore[assignment]
        client.budget = BudgetProxy(client.budget, self.limits)  # type: ignore[assignment]

    def client_totals(self, driver: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run's totals over every worker (and the driver's own client), shaped like
        LLMClient.totals."""
        totals, failures = Counter(self.totals), Counter(self.failures)
        if driver:
            totals.update({k: driver.get(k, 0) for k in TOTAL_KEYS})
            failures.update(driver.get("failures", {}))
        state = self.shared_state()
        return {**(driver or {}), **dict(totals), "failures": dict(failures),
                "budget_usd": self.config.budget_usd, "shared_spent_usd": state["spent"],
                "rate_limited": state["rate_limited"], "engine": "ray"}

    def shared_state(self) -> dict[str, float]:
        """The shared actor's figures: spent, reserved, slots given, 429s seen."""
        return self.ray.get(self.limits.state.remote())

    def close(self) -> None:
        for actor in (self.limits, self.store):
            self.ray.kill(actor)



class AgentWorker:
    """One actor of the agent pool: an LLM client on the shared limits, store and event loop."""

    def __init__(self, blob: bytes, environ: dict[str, str], names: tuple[str, str],
                 concurrency: int):
        import ray  # optional dependency: this class only runs inside a Ray worker

        os.environ.update(environ)
        config, mode, free_prompt = pickle.loads(blob)
        config = dataclasses.replace(config, system=dataclasses.replace(
            config.system, concurrency=concurrency))
        limits, store = ray.get_actor(names[0]), ray.get_actor(names[1])
        self.client = LLMClient(config, StoreProxy(store))
        self.client.limiter = LimiterProxy(limits)  # type: ignore[assignment]
        self.client.budget = BudgetProxy(self.client.budget, limits)  # type: ignore[assignment]
        self.agent = FreeAgent(config, self.client, free_prompt) if mode == "free" else \
            CreateAgent(config, self.client, mode=mode)
        self.loop = asyncio.new_event_loop()  # one loop for the actor's life: the SDK's is bound to it
        self.reported: Counter[str] = Counter()
        self.reported_failures: Counter[str] = Counter()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        slots = [pickle.loads(blob) for blob in batch["slot"]]
        outputs = self.loop.run_until_complete(self._run(slots))
        delta = self._totals_delta()
        rows = [pickle.dumps((output, delta if n == 0 else {})) for n, output in enumerate(outputs)]
        return {"i": list(batch["i"]), "out": rows}

    async def _run(self, slots: list[Slot]) -> list[AgentOutput]:
        """Each slot on its own (concurrently, within the client's limits): its output stays its
        own, and the driver puts them back in slot order."""
        return list(await asyncio.gather(*(self.agent.run([slot]) for slot in slots)))

    def _totals_delta(self) -> dict[str, Any]:
        """What this actor's client did since the last batch (the driver adds them up)."""
        totals = self.client.totals
        delta: dict[str, Any] = {k: totals[k] - self.reported[k] for k in TOTAL_KEYS}
        self.reported.update(delta)
        failures = Counter(totals["failures"])
        delta["failures"] = dict(failures - self.reported_failures)
        self.reported_failures = failures
        return delta


def _read_row(row: dict[str, Any], job: bytes, environ: dict[str, str]) -> dict[str, Any]:
    os.environ.update(environ)
    result = process_file(pickle.loads(row["file"]), pickle.loads(job))
    return {"result": pickle.dumps(result)}


def _score_row(row: dict[str, Any], config: bytes) -> dict[str, Any]:
    return {"scored": pickle.dumps(score_batch(pickle.loads(row["batch"]), pickle.loads(config)))}
