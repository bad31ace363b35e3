"""Opt-outs: by API (`POST /v1/opt-outs`) or by a STOP reply (`POST /v1/inbound/{provider}`). An opt-out
always wins: messages already waiting for that phone are skipped at once, and the dispatcher checks again
before every send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifier.adapters.crypto import PhoneVault
from services.notifier.adapters.metrics import NotifierMetrics
from services.notifier.adapters.queries import add_opt_out
from services.notifier.domain.inbound import is_stop
from services.notifier.domain.phones import mask


class InvalidPhone(ValueError):
    """Not a Vietnamese mobile number."""


@dataclass(frozen=True)
class OptOutResult:
    phone_masked: str
    created: bool  # False: this phone had already opted out
    skipped_waiting: int  # messages that were waiting and will not be sent


class OptOuts:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        vault: PhoneVault,
        to_e164: Callable[[str | None], str | None],
        now: Callable[[], datetime],
        metrics: NotifierMetrics | None = None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.to_e164 = to_e164
        self.now = now
        self.metrics = metrics
        self.on_change = on_change

    async def opt_out(self, phone: str, source: str) -> OptOutResult:
        e164 = self.to_e164(phone)
        if e164 is None:
            raise InvalidPhone("not a valid Vietnamese mobile number")
        async with self.sessions.begin() as session:
            created, changes = await add_opt_out(
                session, self.vault.hash(e164), source, self.now(), self.vault.encrypt(e164)
            )
        if self.metrics is not None:
            for change in changes:
                self.metrics.entered(change.template_id, change.status)
        if changes:
            self.on_change()
        return OptOutResult(mask(e164) or "", created, len(changes))

    async def inbound(self, provider: str, sender: str, text: str) -> OptOutResult | None:
        """A citizen's reply: STOP (or HỦY, TỪ CHỐI, TC...) opts the sender out; anything else is ignored."""
        if not is_stop(text):
            return None
        return await self.opt_out(sender, f"inbound:{provider}")
