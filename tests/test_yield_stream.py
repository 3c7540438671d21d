"""WorkStream (issue 20): work items scored as each finishes, handed on in work order, no more
started than the target needs, none after a stop, at most `window` in flight. Pure asyncio: the
`run` below stands in for the agent (it is the stream's own parameter, not our code patched)."""

from __future__ import annotations

import asyncio
import random

from src.agents.base_agent import AgentOutput
from src.agents.create_agent import Slot
from src.models import Chunk, Example, Turn
from src.pipeline.stream import Shape, WorkStream


def slots(n: int) -> list[Slot]:
    return [Slot(Chunk(id=f"doc.md#{i}", source_file="doc.md", text=f"text {i}",
                       location="", tokens=2, index=i)) for i in range(n)]


class Run:
    """A fake agent: each work item takes `delay(slot)` seconds and writes `pairs` samples."""

    def __init__(self, delay, pairs: int = 4):
        self.delay, self.pairs = delay, pairs
        self.started: list[str] = []
        self.in_flight = self.most_in_flight = 0

    async def __call__(self, batch: list[Slot]) -> list[AgentOutput]:
        self.started += [s.id for s in batch]
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(max(self.delay(s) for s in batch))
        finally:
            self.in_flight -= 1
        return [AgentOutput(examples=[Example(turns=[Turn("user", "q")], id=f"{s.id}/{k}")
                                      for k in range(self.pairs)]) for s in batch]


class Target:
    """The run's side of the stream: counts what `ready` keeps, records both callbacks."""

    def __init__(self, goal: int, accept: float = 1.0):
        self.goal, self.accept = goal, accept
        self.accepted = 0
        self.finished: list[str] = []
        self.ready: list[str] = []
        self.stop = False

    def need(self) -> int:
        return self.goal - self.accepted

    async def on_finished(self, output: AgentOutput) -> None:
        self.finished += sorted({ex.id.split("/")[0] for ex in output.examples})

    def on_ready(self, output: AgentOutput) -> None:
        self.ready += sorted({ex.id.split("/")[0] for ex in output.examples},
                             key=lambda i: int(i.split("#")[1].split("@")[0]))
        self.accepted += round(len(output.examples) * self.accept)

    async def drive(self, stream: WorkStream, acceptance: float = 1.0) -> None:
        await stream.drive(self.need, lambda: acceptance, self.on_finished, self.on_ready,
                           lambda: self.stop)


def ids(n: int) -> list[str]:
    return [s.id for s in slots(n)]


def test_ready_follows_work_order_while_finished_follows_completion() -> None:
    n = 8
    run = Run(lambda s: 0.01 * (n - s.chunk.index))  # the last started answers first
    target = Target(goal=10**6)
    asyncio.run(target.drive(WorkStream(slots(n), run, Shape(window=n), asked=lambda s: 4)))
    assert target.ready == ids(n)
    assert target.finished == ids(n)[::-1]  # each scored the moment it finished
    assert run.started == ids(n)


def test_ready_keeps_work_order_with_random_completion_and_a_small_window() -> None:
    rng = random.Random(11)
    delays = {s.id: rng.uniform(0.0, 0.02) for s in slots(30)}
    run = Run(lambda s: delays[s.id])
    target = Target(goal=10**6)
    asyncio.run(target.drive(WorkStream(slots(30), run, Shape(window=5), asked=lambda s: 4)))
    assert target.ready == ids(30)
    assert sorted(target.finished) == sorted(ids(30)) and target.finished != ids(30)


def test_no_group_starts_once_the_pairs_in_flight_cover_what_is_needed() -> None:
    run = Run(lambda s: 0.01, pairs=4)
    target = Target(goal=10)
    stream = WorkStream(slots(10), run, Shape(window=100), asked=lambda s: 4)
    asyncio.run(target.drive(stream))
    assert run.started == ids(3)  # 4 + 4 expected leave 2 missing, 4 + 4 + 4 cover the 10
    assert run.most_in_flight == 3  # all three at once: the window was no limit
    assert len(stream.queue) == 7 and target.accepted == 12


def test_the_expected_acceptance_decides_how_many_start() -> None:
    run = Run(lambda s: 0.01, pairs=4)
    target = Target(goal=10)
    stream = WorkStream(slots(10), run, Shape(window=100), asked=lambda s: 4)
    asyncio.run(target.drive(stream, acceptance=0.5))  # 2 pairs expected from each
    assert run.started == ids(5)


def test_when_items_yield_less_than_expected_more_start_until_the_target_is_met() -> None:
    rng = random.Random(5)
    run = Run(lambda s: rng.uniform(0.0, 0.01), pairs=2)  # 2 written where 4 were expected
    target = Target(goal=10)
    stream = WorkStream(slots(20), run, Shape(window=100), asked=lambda s: 4)
    asyncio.run(target.drive(stream))
    assert target.accepted == 10 and run.started == ids(5)
    assert target.ready == ids(5) and len(stream.queue) == 15


def test_nothing_starts_when_nothing_is_needed() -> None:
    run = Run(lambda s: 0.0)
    target = Target(goal=0)
    stream = WorkStream(slots(5), run, Shape(window=4), asked=lambda s: 4)
    asyncio.run(target.drive(stream))
    assert run.started == [] and target.ready == [] and len(stream.queue) == 5


def test_a_stop_starts_nothing_more_and_keeps_what_was_in_flight() -> None:
    run = Run(lambda s: 0.01 * (1 + s.chunk.index))
    target = Target(goal=10**6)
    original = target.on_finished

    async def finished_then_stop(output: AgentOutput) -> None:
        await original(output)
        target.stop = True  # e.g. the budget ran out while this item was written
    target.on_finished = finished_then_stop  # type: ignore[method-assign]
    stream = WorkStream(slots(10), run, Shape(window=3), asked=lambda s: 4)
    asyncio.run(target.drive(stream))
    assert run.started == ids(3)  # the window's three, none after the first finished
    assert target.ready == ids(3)  # those in flight are kept, in order
    assert len(stream.queue) == 7


def test_stopped_before_the_start_starts_nothing() -> None:
    run = Run(lambda s: 0.0)
    target = Target(goal=10**6)
    target.stop = True
    asyncio.run(target.drive(WorkStream(slots(4), run, Shape(window=4), asked=lambda s: 4)))
    assert run.started == []


def test_the_window_bounds_the_work_items_in_flight() -> None:
    rng = random.Random(2)
    for window in (1, 3, 7):
        run = Run(lambda s: rng.uniform(0.0, 0.01))
        target = Target(goal=10**6)
        asyncio.run(target.drive(WorkStream(slots(25), run, Shape(window=window),
                                            asked=lambda s: 4)))
        assert run.most_in_flight == window
        assert target.ready == ids(25)


def test_groups_take_at_least_least_and_at_most_most_work_items() -> None:
    run = Run(lambda s: 0.0)
    target = Target(goal=4)  # one item's pairs would do; a Ray group still takes `least`
    stream = WorkStream(slots(20), run, Shape(window=1, least=6, most=100), asked=lambda s: 4)
    asyncio.run(target.drive(stream))
    assert run.started == ids(6) and len(stream.queue) == 14

    run = Run(lambda s: 0.0)
    target = Target(goal=10**6)
    batches: list[int] = []

    async def counting(batch: list[Slot]) -> list[AgentOutput]:
        batches.append(len(batch))
        return await run(batch)
    stream = WorkStream(slots(20), counting, Shape(window=1, least=2, most=8), asked=lambda s: 4)
    asyncio.run(target.drive(stream))
    assert batches == [8, 8, 4] and target.ready == ids(20)
