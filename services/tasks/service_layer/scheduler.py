"""The deadline timer: every `interval` seconds (or sooner when poked) record the alerts today calls for,
publish those not yet acknowledged, and refresh the gauges (a task turns overdue with the date, not an event).

The clock is the service's injected `now`; alerts are recorded before they are published, so a restart or a
NATS outage only delays them, and each is published once per task, kind and deadline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.contracts.alerts import TaskAlertRaised
from services.runtime.waiting import wait_event
from services.tasks.service_layer.handlers import TasksService

logger = logging.getLogger("dvc_pulse.tasks.scheduler")


@dataclass(frozen=True)
class TickOutcome:
    raised: int
    published: int
    publish_error: str | None = None


class DeadlineScheduler:
    def __init__(
        self,
        service: TasksService,
        publish: Callable[[list[TaskAlertRaised]], Awaitable[None]],
        interval: float,
        processed_retention_days: int,
    ) -> None:
        self.service = service
        self.publish = publish
        self.interval = interval
        self.processed_retention_days = processed_retention_days
        self._poked = asyncio.Event()
        self._lock = asyncio.Lock()
        self.ticks = 0

    def poke(self) -> None:
        """Check soon (after a task or its deadline changed)."""
        self._poked.set()

    async def tick(self) -> TickOutcome:
        async with self._lock:  # a poke during a tick waits for it
            return await self._tick()

    async def _tick(self) -> TickOutcome:
        raised = await self.service.raise_due_alerts()
        error = None
        published = 0
        try:
            published = await self.service.publish_pending(self.publish)
        except Exception as failure:  # NATS down: the alerts stay recorded as unpublished, the next tick retries
            error = f"{type(failure).__name__}: {failure}"
            logger.warning("deadline alerts not published yet: %s", error)
        await self.service.refresh_metrics()
        await self.service.forget_processed(self.processed_retention_days)
        self.ticks += 1
        return TickOutcome(raised, published, error)

    async def run(self) -> None:
        while True:
            self._poked.clear()
            try:
                await self.tick()
            except Exception:  # a DB hiccup must not stop the timer
                logger.warning("deadline check failed", exc_info=True)
            await wait_event(self._poked, self.interval)
