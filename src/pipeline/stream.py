"""Create-mode work items as a stream: each scored as it finishes, kept in work order.

The create loop keeps up to `window` groups of work items in flight while the dataset still needs
samples. The pairs expected from what is in flight (conversations asked × the share accepted so
far) count toward the target, so the run neither waits for a whole batch before starting more nor
writes far more than the size. A group is scored the moment it finishes (`finished`: the live line
and the bar move with every answer) and handed on in work order (`ready`: dedup, size cap, save),
so which samples a run keeps never depends on which request answered first, and a resumed run
keeps what an uninterrupted one would.

Locally a group is one work item and `window` is `system.concurrency`: a slow or hung request
holds up one work item, never the others. On Ray a group is a batch for one actor pool, one at a
time. A group's work items are run together but handed back one output each (`run` returns
them in slot order), so `finished` and `ready` see work items, whatever the grouping: the Ray
engine keeps exactly what the local one keeps.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from src.agents.base_agent import AgentOutput
from src.agents.create_agent import Slot


@dataclass
class Shape:
    """How work is grouped: groups in flight, and the work items in one group."""

    window: int
    least: int = 1  # a group has at least this many work items (while any are left) ...
    most: int = 1  # ... and at most this many


@dataclass
class _Group:
    index: int
    slots: list[Slot]
    expected: float  # accepted pairs expected from it


class WorkStream:
    """Feeds work items to `run` while `need()` says more pairs are wanted (see the docstring)."""

    def __init__(self, slots: list[Slot],
                 run: Callable[[list[Slot]], Awaitable[list[AgentOutput]]],
                 shape: Shape, asked: Callable[[Slot], int]):
        self.queue = deque(slots)
        self.run, self.shape, self.asked = run, shape, asked

    async def drive(self, need: Callable[[], int], acceptance: Callable[[], float],
                    finished: Callable[[AgentOutput], Awaitable[None]],
                    ready: Callable[[AgentOutput], None], stopped: Callable[[], bool]) -> None:
        """Run until nothing more is needed, the work items run out, or `stopped()`."""
        flight: dict[asyncio.Task[list[AgentOutput]], _Group] = {}
        done: dict[int, tuple[list[AgentOutput], _Group]] = {}
        released = started = 0

        async def work(slots: list[Slot]) -> list[AgentOutput]:
            outputs = await self.run(slots)
            for output in outputs:
                await finished(output)
            return outputs
        while True:
            while self.queue and len(flight) < self.shape.window and not stopped():
                waiting = sum(g.expected for g in flight.values()) + \
                    sum(g.expected for _, g in done.values())
                group = self._next_group(need() - waiting, acceptance())
                if group is None:
                    break
                group.index, started = started, started + 1
                flight[asyncio.create_task(work(group.slots))] = group
            if not flight:
                return
            finished_tasks, _ = await asyncio.wait(flight, return_when=asyncio.FIRST_COMPLETED)
            for task in finished_tasks:
                group = flight.pop(task)
                done[group.index] = (task.result(), group)
            while released in done:
                for output in done.pop(released)[0]:
                    ready(output)
                released += 1

    def _next_group(self, missing: float, acceptance: float) -> _Group | None:
        """The next work items to start, enough for `missing` pairs (None: none needed)."""
        if missing <= 0:
            return None
        slots: list[Slot] = []
        expected = 0.0
        while self.queue and len(slots) < self.shape.most and \
                (expected < missing or len(slots) < self.shape.least):
            slot = self.queue.popleft()
            slots.append(slot)
            expected += self.asked(slot) * acceptance
        return _Group(0, slots, expected)
