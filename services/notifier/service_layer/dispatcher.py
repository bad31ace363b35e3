"""The dispatcher loop: sends due notifications through the provider, retries what the provider could not
take (exponential backoff with jitter), applies delivery receipts, expires messages that never got one, and
publishes status events. Consumers only plan notifications; nothing is sent from inside a consumer."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.contracts.alerts import NotificationStatus as S
from services.notifier.domain.policy import QuietHours, retry_delay
from services.notifier.domain.sending import DeliveryReceipt, Encoding, OutgoingSms, SendResult, SmsProvider
from services.notifier.domain.statuses import ensure_transition
from services.notifier.service_layer.claiming import claim_due
from services.notifier.service_layer.messages import Change, Claimed
from services.notifier.service_layer.ports import DispatchMetrics, PhoneVault, StatusRelay
from services.notifier.service_layer.unit_of_work import DispatchUnitOfWork
from services.runtime.waiting import wait_event

logger = logging.getLogger("dvc_pulse.notifier")
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DispatchSettings:
    batch_size: int = 100
    concurrency: int = 10
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(minutes=30)
    receipt_timeout: timedelta = timedelta(hours=72)
    unknown_review: timedelta = timedelta(hours=24)  # an unknown outcome unsettled this long: needs_review
    sending_timeout: timedelta = timedelta(minutes=15)  # `sending` with no answer recorded this long: unknown
    sweep_interval: timedelta = timedelta(seconds=30)
    contact_wait: timedelta = timedelta(hours=24)
    sender: str | None = None


@dataclass
class TickOutcome:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    expired: int = 0
    receipts: int = 0
    unknown: int = 0
    superseded: int = 0


class Dispatcher:
    def __init__(
        self,
        *,
        units: Callable[[], DispatchUnitOfWork],
        provider: SmsProvider,
        vault: PhoneVault,
        quiet: QuietHours,
        settings: DispatchSettings,
        now: Clock,
        metrics: DispatchMetrics | None = None,
        relay: StatusRelay | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.units = units
        self.provider = provider
        self.vault = vault
        self.quiet = quiet
        self.settings = settings
        self.now = now
        self.metrics = metrics
        self.relay = relay
        self.uniform = uniform
        self._wake = asyncio.Event()
        self._last_sweep: datetime | None = None
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        # Send results and receipts are written one at a time: a receipt that races its own send result is then
        # either seen by the result's transaction or finds the notification already `sent`.
        self._write_lock = asyncio.Lock()
        self._tick_lock = asyncio.Lock()
        self._receipts: list[tuple[DeliveryReceipt, asyncio.Future[None]]] = []
        self._receipt_flusher: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """New work (a committed batch, a receipt): run a tick now rather than at the next interval."""
        self._wake.set()

    async def run(self, interval: float) -> None:
        while True:
            self._wake.clear()
            try:
                outcome = await self.run_once()
            except Exception:
                logger.exception("dispatcher tick failed; retrying at the next one")
                outcome = TickOutcome()
            if outcome.claimed + outcome.skipped + outcome.superseded >= self.settings.batch_size:
                continue  # a full batch: more may be due already (a burst would otherwise leave one batch a tick)
            await wait_event(self._wake, interval)

    async def run_once(self) -> TickOutcome:
        # One tick at a time (the loop's and a direct call's): a slower tick that read the queue before a newer
        # one must not publish its older reading of the gauges last.
        async with self._tick_lock:
            return await self._tick()

    async def _tick(self) -> TickOutcome:
        outcome = TickOutcome()
        now = self.now()
        async with self.units() as unit:
            claim = await claim_due(unit.deliveries, now, self.settings.batch_size, self.quiet.is_quiet(now))
            await unit.commit()
        claimed, skipped = claim.claimed, claim.stopped
        self._count(skipped)
        self._count_status(claimed, S.SENDING)
        outcome.superseded = sum(1 for change in skipped if change.status is S.SUPERSEDED)
        outcome.claimed, outcome.skipped = len(claimed), len(skipped) - outcome.superseded
        if claimed:
            results = await asyncio.gather(*(self._send(item) for item in claimed))
            await self._record(claimed, results, outcome)
        if self._last_sweep is None or now - self._last_sweep >= self.settings.sweep_interval:
            self._last_sweep = now
            outcome.expired, outcome.receipts = await self._sweep(now)
        if self.relay is not None:
            await self.relay.flush()
        return outcome

    async def _send(self, item: Claimed) -> SendResult:
        phone = self.vault.decrypt(item.phone_encrypted)
        if phone is None:
            return SendResult(accepted=False, error="phone_unreadable", permanent=True)
        message = OutgoingSms(item.id, phone, item.text, Encoding(item.encoding), item.segments, self.settings.sender)
        async with self._semaphore:
            started = time.perf_counter()
            try:
                result = await self.provider.send(message)
            except Exception as error:  # a provider should answer, not raise: retry as a temporary failure
                result = SendResult(accepted=False, error=f"{type(error).__name__}: {error}")
            elapsed = time.perf_counter() - started
        if self.metrics is not None:
            name = result.provider or self.provider.name
            self.metrics.send_answered(name, send_outcome(result), elapsed)
            if result.accepted:
                self.metrics.segments_sent(name, item.encoding, item.segments)
        return result

    def _change(self, item: Claimed, result: SendResult, now: datetime, outcome: TickOutcome) -> Change:
        provider = result.provider or self.provider.name
        error = (result.error or "")[:500] or None
        if result.accepted:
            outcome.sent += 1
            values = {"provider": provider, "provider_reference": result.provider_reference, "sent_at": now}
            return Change(item.id, item.template_id, item.dossier_code, S.SENT, values, None, provider)
        if result.unknown:  # the provider may have it: never resent, settled by a receipt or by the operator
            outcome.unknown += 1
            reason = result.reason or "provider_timeout"
            values = {"provider": provider, "provider_reference": result.provider_reference, "reason": reason}
            values["detail"] = error
            return Change(item.id, item.template_id, item.dossier_code, S.UNKNOWN, values, reason, provider)
        if result.permanent:
            outcome.failed += 1
            reason = "phone_unreadable" if result.error == "phone_unreadable" else "provider_rejected"
            values = {"provider": provider, "reason": reason, "detail": error}
            return Change(item.id, item.template_id, item.dossier_code, S.PERMANENT_FAILURE, values, reason, provider)
        if item.attempts >= self.settings.max_attempts:
            outcome.failed += 1
            values = {"reason": "retries_exhausted", "detail": error}
            change = Change(
                item.id, item.template_id, item.dossier_code, S.TECHNICAL_FAILURE, values, "retries_exhausted", provider
            )
            return change
        outcome.retried += 1
        delay = retry_delay(item.attempts, self.settings.retry_base, self.settings.retry_cap, self.uniform)
        values = {"send_after": now + delay, "detail": error}
        return Change(item.id, item.template_id, item.dossier_code, S.CREATED, values, None, provider)

    async def _record(self, claimed: Sequence[Claimed], results: Sequence[SendResult], outcome: TickOutcome) -> None:
        now = self.now()
        changes = [self._change(item, result, now, outcome) for item, result in zip(claimed, results, strict=True)]
        for change in changes:  # every claimed message is `sending`: its outcome must be a move the table allows
            ensure_transition(S.SENDING, change.status)
        references: list[tuple[str, str]] = []
        for change in changes:
            if change.status in (S.SENT, S.UNKNOWN) and change.provider:
                references.append((change.provider, change.id))  # a receipt may quote our id
                if change.values.get("provider_reference"):
                    references.append((change.provider, change.values["provider_reference"]))
        async with self._write_lock, self.units() as unit:
            changes = await unit.deliveries.write(changes, now)
            # a receipt may have come back before this transaction: apply it now
            early = await unit.deliveries.write(await unit.receipts.changes_for(references), now)
            await unit.commit()
        self._count(changes)
        self._count(early)

    async def _sweep(self, now: datetime) -> tuple[int, int]:
        older_than = now - self.settings.receipt_timeout
        async with self._write_lock, self.units() as unit:  # receipts stored but not applied yet
            late = await unit.deliveries.write(await unit.receipts.changes_for(await unit.receipts.unapplied()), now)
            await unit.commit()
        async with self.units() as unit:
            sweeps = unit.sweeps
            expired = await sweeps.unanswered(older_than)
            expired += await sweeps.contact_never_came(now - self.settings.contact_wait)
            expired += await sweeps.stuck_sending(now - self.settings.sending_timeout)
            expired = await unit.deliveries.write(expired, now)
            await unit.deliveries.write(await sweeps.unknown_overdue(now - self.settings.unknown_review), now)
            await unit.commit()
        self._count(late)
        self._count(expired)
        if self.metrics is not None:
            async with self.units() as unit:
                self.metrics.store_measured(await unit.sweeps.queue_depth(now), await unit.sweeps.sent_total())
            if self.relay is not None:
                self.metrics.status_backlog_measured(await self.relay.pending())
        return len(expired), len(late)

    async def on_receipt(self, receipt: DeliveryReceipt) -> bool:
        """One delivery receipt; returns whether it changed a notification."""
        return await self.apply_receipts([receipt]) > 0

    async def apply_receipts(self, items: Sequence[DeliveryReceipt]) -> int:
        """Receipts are stored, then applied to the notifications waiting for them (one transaction); a receipt
        for a reference not recorded yet is applied when the send result is. Returns the changes made."""
        if not items:
            return 0
        now = self.now()
        async with self._write_lock, self.units() as unit:
            await unit.receipts.store(items, now)
            pairs = sorted({(item.provider, item.provider_reference) for item in items})
            changes = await unit.deliveries.write(await unit.receipts.changes_for(pairs), now)
            await unit.commit()
        self._count(changes)
        if changes:
            self.poke()  # publish the status events soon
        return len(changes)

    async def receive(self, receipt: DeliveryReceipt) -> None:
        """The providers' receipt callback: returns once the receipt is committed, committing together the
        receipts that arrive meanwhile (a busy gateway sends hundreds a second)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._receipts.append((receipt, future))
        if self._receipt_flusher is None or self._receipt_flusher.done():
            self._receipt_flusher = asyncio.create_task(self._flush_receipts())
        await future

    async def _flush_receipts(self) -> None:
        while self._receipts:
            batch, self._receipts = self._receipts, []
            try:
                await self.apply_receipts([receipt for receipt, _ in batch])
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def _count(self, changes: Sequence[Change]) -> None:
        if self.metrics is not None:
            for change in changes:
                self.metrics.entered(change.template_id, change.status)

    def _count_status(self, claimed: Sequence[Claimed], status: S) -> None:
        if self.metrics is not None:
            for item in claimed:
                self.metrics.entered(item.template_id, status)


def send_outcome(result: SendResult) -> str:
    """The bounded `outcome` label of dvc_notifier_provider_sends_total."""
    if result.accepted:
        return "accepted"
    if result.unknown:
        return "unknown"
    return "refused" if result.permanent else "failed"
