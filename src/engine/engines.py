"""Which engine runs a run: `system.engine` (local: every core here; ray: a Ray cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from src.config import Config, QualityConfig, worker_count
from src.engine.local import LocalEngine
from src.engine.ray_engine import RayEngine
from src.engine.work import FileResult, Job
from src.ingest.inputs import InputFile
from src.models import Example, IngestFailure


class Engine(Protocol):
    """What the pipeline asks of an engine (a context manager that frees its workers)."""

    name: str

    def map_files(self, found: list[InputFile | IngestFailure], job: Job) -> Iterator[FileResult]: ...

    def score(self, examples: list[Example], config: QualityConfig) -> None: ...

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...


def engine_for(config: Config, progress: bool = False) -> Engine:
    """The engine config asks for (the Ray engine checks that Ray is installed and reachable)."""
    if config.system.engine == "ray":
        return RayEngine(config, progress)
    return LocalEngine(worker_count(config), progress)
