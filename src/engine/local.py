"""Every core of one machine: an ordered process pool for reading files and scoring samples.

Results always come back in input order, so the dataset, its ids and its order are the same with
one worker or many. A worker handles one file (or one slice of samples) at a time, with the memory
bound of a single reader, and at most `workers * IN_FLIGHT` tasks are out at once, so the parent
holds only the results it has not yet used. Small inputs are done in this process: starting
workers costs more than it saves.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from src.config import QualityConfig
from src.engine.work import FileResult, Job, process_file
from src.ingest.inputs import InputFile
from src.models import Example, IngestFailure
from src.quality.scores import score_examples

T = TypeVar("T")
R = TypeVar("R")
IN_FLIGHT = 4  # tasks per worker submitted ahead of the one being waited for
POOL_MIN_SECONDS = 1.0  # estimated single-core work below which no pool is started
READ_MB_PER_S = {"pdf": 0.5, "docx": 2.0, "pptx": 2.0, "xlsx": 2.0}  # others (text) ~50 MB/s
TEXT_MB_PER_S = 50.0
SCORE_BATCH = 500  # samples per scoring task
POOL_MIN_SAMPLES = 4000  # fewer samples are scored here (about 1 s on one core)


class LocalEngine:
    """Runs per-file work and scoring on `workers` processes of this machine."""

    name = "local"

    def __init__(self, workers: int, progress: bool = False):
        self.workers = max(1, workers)
        self.progress = progress
        self._pool: ProcessPoolExecutor | None = None

    def map_files(self, found: list[InputFile | IngestFailure], job: Job) -> Iterator[FileResult]:
        """process_file for every file, in order; a walk failure passes through as a result."""
        for item in self.map_inputs(found, process_file, job):
            yield FileResult(item.path, failure=item) if isinstance(item, IngestFailure) else item

    def map_inputs(self, found: list[InputFile | IngestFailure], fn: Callable[[InputFile, Any], R],
                   shared: Any) -> Iterator[R | IngestFailure]:
        """fn(file, shared) for every walked file, in order (on the pool when it pays off);
        walk failures pass through. A progress bar counts the files."""
        files = [f for f in found if isinstance(f, InputFile)]
        parallel = self.workers > 1 and len(files) > 1 and \
            estimated_seconds(files) >= POOL_MIN_SECONDS
        results = self.ordered(fn, files, shared) if parallel else (fn(f, shared) for f in files)
        with tqdm(total=len(found), desc="read", unit="file", disable=not self.progress,
                  leave=False) as bar:
            for item in found:
                yield item if isinstance(item, IngestFailure) else next(results)
                bar.update()

    def score(self, examples: list[Example], config: QualityConfig) -> None:
        """Quality scores of every example, in place (in the pool for a large set)."""
        if self.workers == 1 or len(examples) < POOL_MIN_SAMPLES:
            score_examples(examples, config)
            return
        batches = [examples[i:i + SCORE_BATCH] for i in range(0, len(examples), SCORE_BATCH)]
        with tqdm(total=len(examples), desc="score", unit="sample", disable=not self.progress,
                  leave=False) as bar:
            for batch, scored in zip(batches, self.ordered(score_batch, batches, config)):
                adopt(batch, scored)
                bar.update(len(batch))

    def ordered(self, fn: Callable[[T, Any], R], items: Iterable[T], shared: Any) -> Iterator[R]:
        """fn(item, shared) for every item on the pool, yielded in the items' order."""
        pool = self._executor()
        window: deque[Future[R]] = deque()
        for item in items:
            window.append(pool.submit(fn, item, shared))
            if len(window) >= self.workers * IN_FLIGHT:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(),
                                             initializer=_worker_start, initargs=(dict(os.environ),))
        return self._pool

    def close(self) -> None:
        """Stop the workers (they hold nothing the run needs)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def score_batch(batch: list[Example], config: QualityConfig) -> list[Example]:
    """A batch of examples scored (in a worker: the scored copies are sent back)."""
    return score_examples(batch, config)


def adopt(originals: list[Example], scored: list[Example]) -> None:
    """Give each original every field of its scored copy (scores, notes, reasons, claims...):
    whatever scoring fills, the pool's result is the same as scoring in place."""
    names = [f.name for f in dataclasses.fields(Example)]
    for original, copy in zip(originals, scored, strict=True):
        for name in names:
            setattr(original, name, getattr(copy, name))


def estimated_seconds(files: list[InputFile]) -> float:
    """A rough single-core reading time, to decide whether a pool pays off."""
    seconds = 0.0
    for found in files:
        try:
            size_mb = found.path.stat().st_size / 1048576
        except OSError:
            continue
        seconds += size_mb / READ_MB_PER_S.get(Path(found.name).suffix.lower().lstrip("."),
                                               TEXT_MB_PER_S)
    return seconds


def _context() -> Any:
    """forkserver: workers fork from a small clean server process that has the reading code
    imported (fast to start, and no copy of this process's memory or threads); spawn where
    forkserver does not exist."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["src.engine.work", "src.engine.local"])
    return context


def _worker_start(environ: dict[str, str]) -> None:
    """A worker sees this run's environment (the fork server may be older than it)."""
    os.environ.clear()
    os.environ.update(environ)
