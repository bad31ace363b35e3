"""Publishes the status-event outbox to `dvc.notify.status.<status>` (DVC_NOTIFY), then deletes what
JetStream acknowledged. A failed publish leaves the rows for the next flush; the `Nats-Msg-Id`
(`notifier:<notification>:<seq>`) makes a re-publish harmless."""

from __future__ import annotations

import logging
from collections.abc import Callable

from nats.js import JetStreamContext
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.contracts.streams import NOTIFY
from services.contracts.subjects import NOTIFICATION_STATUS
from services.notifier.adapters.tables import status_outbox
from services.runtime.nats.publishing import OutgoingMessage, PublishFailed, publish_all

logger = logging.getLogger("dvc_pulse.notifier")


class StatusRelay:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], js: Callable[[], JetStreamContext], batch: int = 500
    ) -> None:
        self.sessions = sessions
        self.js = js
        self.batch = batch

    async def flush(self) -> int:
        """Publish every pending status event; returns how many were published."""
        published = 0
        while True:
            async with self.sessions() as session:
                query = select(status_outbox).order_by(status_outbox.c.seq).limit(self.batch)
                rows = list(await session.execute(query))
            if not rows:
                return published
            messages = [
                OutgoingMessage(
                    f"{NOTIFICATION_STATUS}.{row.status}", row.payload, f"notifier:{row.notification_id}:{row.seq}"
                )
                for row in rows
            ]
            try:
                await publish_all(self.js(), messages, expected_stream=NOTIFY.name)
            except PublishFailed as error:
                logger.warning("status events not published yet (%d pending): %s", len(rows), error)
                return published
            async with self.sessions.begin() as session:
                await session.execute(delete(status_outbox).where(status_outbox.c.seq.in_([row.seq for row in rows])))
            published += len(rows)
            if len(rows) < self.batch:
                return published

    async def pending(self) -> int:
        async with self.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(status_outbox))).scalar_one())
