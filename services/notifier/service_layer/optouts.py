"""Opt-outs: by API (`POST /v1/opt-outs`) or by a STOP reply (`POST /v1/inbound/{provider}`). An opt-out
always wins: messages already waiting for that phone are skipped at once, and the dispatcher checks again
before every send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.notifier.domain.inbound import is_stop
from services.notifier.domain.phones import mask
from services.notifier.service_layer.ports import PhoneVault, StatusMetrics
from services.notifier.service_layer.unit_of_work import OptOutUnitOfWork


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
        units: Callable[[], OptOutUnitOfWork],
        vault: PhoneVault,
        to_e164: Callable[[str | None], str | None],
        now: Callable[[], datetime],
        metrics: StatusMetrics | None = None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.units = units
        self.vault = vault
        self.to_e164 = to_e164
        self.now = now
        self.metrics = metrics
        self.on_change = on_change

    async def opt_out(self, phone: str, source: str) -> OptOutResult:
        e164 = self.to_e164(phone)
        if e164 is None:
            raise InvalidPhone("not a valid Vietnamese mobile number")
        async with self.units() as unit:
            phone_hash, encrypted = self.vault.hash(e164), self.vault.encrypt(e164)
            created, changes = await unit.optouts.add(phone_hash, source, self.now(), encrypted)
            await unit.commit()
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
