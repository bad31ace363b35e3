"""The notifier's use cases on a real database without NATS: intake, dispatcher, opt-outs, with a fake
provider whose answers the test chooses (the acceptance tests use the real outbox provider)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.contracts.events import parse_event
from services.notifier.adapters.config_files import load_templates, load_triggers
from services.notifier.adapters.crypto import PhoneVault
from services.notifier.adapters.migrate import upgrade
from services.notifier.adapters.phones import to_e164
from services.notifier.adapters.staff import StaffDirectory
from services.notifier.adapters.tables import notifications
from services.notifier.adapters.unit_of_work import SqlUnitOfWork
from services.notifier.domain.incoming import Incoming, from_event
from services.notifier.domain.policy import Limits, QuietHours
from services.notifier.domain.sending import OutgoingSms, SendResult, SmsProvider
from services.notifier.service_layer.dispatcher import Dispatcher, DispatchSettings
from services.notifier.service_layer.handlers import Intake
from services.notifier.service_layer.optouts import OptOuts
from services.runtime.db import create_engine, create_session_factory
from tests.notifier.helpers import HASH_KEY, KEY, FakeClock

TIMEZONE = "Asia/Ho_Chi_Minh"
_references = itertools.count(1)


@dataclass
class FakeProvider:
    """Accepts everything unless told otherwise; `answers` are used first, in order."""

    name: str = "fake"
    sent: list[OutgoingSms] = field(default_factory=list)
    answers: list[SendResult] = field(default_factory=list)

    async def send(self, message: OutgoingSms) -> SendResult:
        if self.answers:
            answer = self.answers.pop(0)
            if answer.accepted:
                self.sent.append(message)
            return answer
        self.sent.append(message)
        return SendResult(accepted=True, provider_reference=f"ref-{next(_references)}", provider=self.name)

    async def close(self) -> None:
        return None


@dataclass
class Core:
    sessions: async_sessionmaker[AsyncSession]
    intake: Intake
    dispatcher: Dispatcher
    optouts: OptOuts
    provider: FakeProvider
    clock: FakeClock
    vault: PhoneVault

    async def take(self, *events: dict[str, Any], consumer: str = "notifier") -> None:
        await self.intake.apply([from_event(parse_event(event), TIMEZONE) for event in events], consumer)

    async def take_incoming(self, items: Sequence[Incoming], consumer: str = "notifier-alerts") -> None:
        await self.intake.apply(items, consumer)

    async def rows(self, **where: Any) -> list[Any]:
        query = select(notifications).order_by(notifications.c.created_at, notifications.c.template_id)
        for name, value in where.items():
            query = query.where(notifications.c[name] == value)
        async with self.sessions() as session:
            return list(await session.execute(query))


@asynccontextmanager
async def core(
    database_url: str,
    clock: FakeClock,
    *,
    staff: Path | None = None,
    limits: Limits | None = None,
    dispatch: DispatchSettings | None = None,
    quiet_hours: str = "21:00-07:00",
    vault: PhoneVault | None = None,
    sender: SmsProvider | None = None,
) -> AsyncIterator[Core]:
    """`sender`: a real provider to send through (default: the FakeProvider in `Core.provider`)."""
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    vault = vault or PhoneVault([KEY], HASH_KEY)
    quiet = QuietHours.parse(quiet_hours, TIMEZONE)
    templates = load_templates()
    provider = FakeProvider()
    intake = Intake(
        units=lambda: SqlUnitOfWork(sessions),
        vault=vault,
        to_e164=to_e164,
        staff=StaffDirectory.load(staff),
        triggers=load_triggers(templates),
        quiet=quiet,
        limits=limits or Limits(),
        now=clock,
    )
    dispatcher = Dispatcher(
        units=lambda: SqlUnitOfWork(sessions),
        provider=sender or provider,
        vault=vault,
        quiet=quiet,
        settings=dispatch or DispatchSettings(sweep_interval=timedelta(0)),
        now=clock,
        uniform=lambda low, high: high,  # the longest backoff, so the test knows when the retry is due
    )
    optouts = OptOuts(units=lambda: SqlUnitOfWork(sessions), vault=vault, to_e164=to_e164, now=clock)
    try:
        yield Core(sessions, intake, dispatcher, optouts, provider, clock, vault)
    finally:
        await engine.dispose()
