"""The simulator's modes: back-fill a window, run on a (possibly accelerated) simulated clock, or live.

"Now" for the services is always the real clock. History and live never stamp an event after the real
now (events planned for later wait until real time reaches them). Accelerated mode stamps events with the
simulated time, which runs `speed` times faster than real time from `start`: started in the past it
catches up with the real now; started at now it runs ahead of it (see docs/simulator.md).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.contracts.events import EventType
from services.runtime.waiting import wait_event
from services.simulator.envelopes import SimEvent
from services.simulator.generator import (
    FAR_FUTURE,
    LIVE_SLOT,
    World,
    catalog_events,
    generate,
    generate_live_slot,
)
from services.simulator.progress import Reporter
from services.simulator.sender import EventSink
from services.simulator.truth import Truth

PUBLISHED = EventType.PROCEDURE_PUBLISHED.value


class SimClock:
    """Simulated time = `sim_start` + (real elapsed) x `speed`."""

    def __init__(self, sim_start: datetime, speed: float, real: Callable[[], float] = time.monotonic) -> None:
        self.sim_start, self.speed, self._real = sim_start, speed, real
        self._real_start = real()

    def now(self) -> datetime:
        return self.sim_start + timedelta(seconds=(self._real() - self._real_start) * self.speed)

    def real_seconds_until(self, instant: datetime) -> float:
        return (instant - self.now()).total_seconds() / self.speed


class EventQueue:
    """Planned events, released in time order."""

    def __init__(self) -> None:
        self._heap: list[tuple[tuple[datetime, int, str, str], int, SimEvent]] = []
        self._order = itertools.count()

    def push(self, events: Iterable[SimEvent]) -> None:
        for event in events:
            heapq.heappush(self._heap, (event.sort_key, next(self._order), event))

    def pop_until(self, instant: datetime) -> list[SimEvent]:
        due = []
        while self._heap and self._heap[0][2].time <= instant:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def next_time(self) -> datetime | None:
        return self._heap[0][2].time if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)


@dataclass
class Run:
    world: World
    seed: int
    sink: EventSink
    reporter: Reporter
    keep_truth: bool = True  # a long live run without --truth should not grow its memory
    truth: Truth | None = None
    horizon: datetime | None = None  # every event at or before it was delivered

    def final_truth(self) -> Truth | None:
        """The ground truth as of the last delivered instant (what the services can know)."""
        if self.truth is None or self.horizon is None:
            return None
        return self.truth.as_of(self.horizon)

    def remember(self, truth: Truth) -> None:
        if not self.keep_truth:
            return
        if self.truth is None:
            self.truth = Truth(truth.procedures, truth.published_at)
        self.truth.merge(truth)

    async def history(self, start: datetime, end: datetime, cutoff: datetime | None = None) -> EventQueue:
        """Send the catalogue, then every event of [start, end) up to `cutoff` as fast as the sink takes them;
        returns the events planned after the cutoff."""
        simulation = generate(self.seed, start, end, world=self.world, cutoff=FAR_FUTURE)
        self.remember(simulation.truth)
        cutoff = cutoff or end
        past = [event for event in simulation.events if event.time <= cutoff]
        self.reporter.begin_history(len(past), start, cutoff)
        await self.sink.send([event for event in past if event.document["type"] == PUBLISHED])
        await self.sink.send([event for event in past if event.document["type"] != PUBLISHED])
        self.reporter.end_history()
        self.horizon = cutoff
        queue = EventQueue()
        queue.push(event for event in simulation.events if event.time > cutoff)
        return queue

    async def clocked(
        self,
        clock: SimClock,
        queue: EventQueue,
        plan: Callable[[datetime], list[SimEvent]],
        end: datetime | None,
        stop: asyncio.Event,
        tick: float = 0.5,
    ) -> None:
        """Release planned events when the clock reaches them; `plan(until)` adds events up to `until`."""
        while not stop.is_set():
            now = clock.now()
            horizon = now if end is None else min(now, end)
            queue.push(plan(horizon + timedelta(seconds=2 * tick * clock.speed)))
            due = queue.pop_until(horizon)
            if due:
                await self.sink.send(due)
            self.horizon = horizon
            self.reporter.tick(horizon, len(queue))
            if end is not None and now >= end:
                return
            upcoming = queue.next_time()
            wait = tick if upcoming is None else min(tick, max(0.0, clock.real_seconds_until(upcoming)))
            await wait_event(stop, max(0.02, wait))

    def day_planner(self, start: datetime) -> Callable[[datetime], list[SimEvent]]:
        """Plans whole local days on the legal calendar (dossiers submitted from `start` on)."""
        zone = self.world.legal.timezone
        state = {"next": start}

        def plan(until: datetime) -> list[SimEvent]:
            events: list[SimEvent] = []
            while state["next"] <= until:
                begin = state["next"]
                local = begin.astimezone(zone)
                day_end = datetime(local.year, local.month, local.day, tzinfo=zone) + timedelta(days=1)
                simulation = generate(
                    self.seed, begin, day_end, world=self.world, cutoff=FAR_FUTURE, include_catalog=False
                )
                self.remember(simulation.truth)
                events.extend(simulation.events)
                state["next"] = day_end
            return events

        return plan

    def live_planner(self, start: datetime, speed: float) -> Callable[[datetime], list[SimEvent]]:
        """Plans 10-minute slots of compressed live traffic (office always open, `speed` x the workload)."""
        config = self.world.config.with_overrides(office="always", intensity=speed, time_scale=speed)
        live_world = replace(self.world, config=config)
        epoch = int(start.timestamp()) // int(LIVE_SLOT.total_seconds()) * int(LIVE_SLOT.total_seconds())
        state = {"next": datetime.fromtimestamp(epoch, start.tzinfo)}

        def plan(until: datetime) -> list[SimEvent]:
            events: list[SimEvent] = []
            while state["next"] <= until:
                simulation = generate_live_slot(self.seed, state["next"], live_world, not_before=start)
                self.remember(simulation.truth)
                events.extend(simulation.events)
                state["next"] += LIVE_SLOT
            return events

        return plan


async def run_history(run: Run, start: datetime, end: datetime) -> None:
    await run.history(start, end)


async def run_accelerated(run: Run, start: datetime, speed: float, end: datetime | None, stop: asyncio.Event) -> None:
    """Simulated time runs `speed` x real time from `start` (speed 1 and start now: real time)."""
    run.remember(Truth(list(run.world.catalog.procedures), start))
    await run.sink.send(catalog_events(run.world, start))
    clock = SimClock(start, speed)
    await run.clocked(clock, EventQueue(), run.day_planner(start), end, stop)


async def run_live(
    run: Run, now: datetime, backfill: timedelta, speed: float, end: datetime | None, stop: asyncio.Event
) -> None:
    """Back-fill [now - backfill, now) at full speed, then compressed live traffic stamped near the real now,
    while the back-filled dossiers' planned events are released as real time reaches them."""
    queue = await run.history(now - backfill, now)
    clock = SimClock(datetime.now(now.tzinfo), 1.0)
    await run.clocked(clock, queue, run.live_planner(clock.sim_start, speed), end, stop)
