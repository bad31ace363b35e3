"""The retention purge, run by the service itself every `DVC_NOTIFIER_PURGE_INTERVAL_HOURS` (and on demand by
`dvc-pulse notifier purge`): phones, names and texts older than `DVC_NOTIFIER_RETENTION_DAYS` are deleted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from services.notifier.service_layer.messages import Purged
from services.notifier.service_layer.unit_of_work import RetentionUnitOfWork

logger = logging.getLogger("dvc_pulse.notifier")


class Purger:
    def __init__(
        self, units: Callable[[], RetentionUnitOfWork], retention: timedelta, now: Callable[[], datetime]
    ) -> None:
        self.units = units
        self.retention = retention
        self.now = now

    async def run_once(self) -> Purged:
        cutoff = self.now() - self.retention
        async with self.units() as unit:
            purged = await unit.retention.purge(cutoff)
            await unit.commit()
        if purged.notifications or purged.contacts or purged.receipts:
            logger.info(
                "retention purge before %s: %d notifications cleared, %d contacts and %d receipts deleted",
                cutoff.isoformat(timespec="minutes"),
                purged.notifications,
                purged.contacts,
                purged.receipts,
            )
        return purged

    async def run(self, interval_seconds: float) -> None:
        """At start, then every `interval_seconds`; a failed run is logged and retried at the next one."""
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception("retention purge failed; retrying at the next run")
            await asyncio.sleep(interval_seconds)
