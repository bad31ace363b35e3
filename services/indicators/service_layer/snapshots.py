"""Publish `dvc.indicators.snapshot` at least every `interval` seconds and after applied batches, at most
once per `min_interval` seconds (a poke during the quiet time is served when it ends). The quiet time
also stretches to 9x the last snapshot's duration, so that on a big database snapshots never take more
than a tenth of the time from the consumer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from nats.js import JetStreamContext

from services.contracts.alerts import IndicatorSnapshotTaken
from services.contracts.streams import ALERTS
from services.contracts.subjects import INDICATORS_SNAPSHOT
from services.indicators.service_layer.handlers import Snapshot
from services.runtime.nats.publishing import OutgoingMessage, publish_all
from services.runtime.waiting import wait_event

logger = logging.getLogger("dvc_pulse.indicators.snapshots")


def snapshot_publisher(js: Callable[[], JetStreamContext]) -> Callable[[IndicatorSnapshotTaken], Awaitable[None]]:
    async def publish(message: IndicatorSnapshotTaken) -> None:
        payload = message.model_dump_json().encode()
        outgoing = OutgoingMessage(INDICATORS_SNAPSHOT, payload, message.snapshot_id)
        await publish_all(js(), [outgoing], expected_stream=ALERTS.name)

    return publish


class SnapshotLoop:
    def __init__(
        self,
        take: Callable[[], Awaitable[Snapshot]],
        publish: Callable[[IndicatorSnapshotTaken], Awaitable[None]] | None,
        interval: float,
        min_interval: float,
    ) -> None:
        self.take = take
        self.publish = publish
        self.interval = interval
        self.min_interval = min_interval
        self._poked = asyncio.Event()
        self._last = 0.0
        self._duration = 0.0
        self.taken = 0

    def poke(self) -> None:
        """Ask for a snapshot soon (after a batch was applied)."""
        self._poked.set()

    async def run_once(self) -> None:
        self._poked.clear()
        started = time.monotonic()
        try:
            snapshot = await self.take()
            self.taken += 1
            if self.publish is not None:
                await self.publish(snapshot.message())
        except Exception:  # the loop survives a DB or broker hiccup; the next tick retries
            logger.warning("indicator snapshot failed", exc_info=True)
        self._last = time.monotonic()
        self._duration = self._last - started

    async def run(self) -> None:
        while True:
            await wait_event(self._poked, self.interval)
            quiet = max(self.min_interval, 9 * self._duration) - (time.monotonic() - self._last)
            if quiet > 0:
                await asyncio.sleep(quiet)
            await self.run_once()
