"""Use cases driven by the events and the clock: live snapshots folded exactly once, and the deadline alerts
recorded then published."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from services.contracts.alerts import TaskAlertRaised
from services.tasks.domain.alerts import due_alerts
from services.tasks.domain.live import fold_snapshots
from services.tasks.service_layer.handlers_core import ServiceCore
from services.tasks.service_layer.messages import SnapshotItem, SnapshotOutcome


class LiveUseCases(ServiceCore):
    # -- live snapshots ----------------------------------------------------------------------------------------
    async def apply_snapshots(self, items: Sequence[SnapshotItem]) -> SnapshotOutcome:
        """One transaction: the message ids not seen yet and the values they carry, folded (exactly once)."""
        async with self.uow() as uow:
            seen = await uow.live.seen([item.message_id for item in items])
            fresh = _first_of_each(items, seen)
            changed: set[str] = set()
            if fresh:
                await uow.live.record_processed(fresh.values(), self.now())
                snapshots = [item.snapshot for item in fresh.values()]
                changed = await uow.live.store(fold_snapshots(await uow.live.live_plans(), snapshots, self.timezone))
            await uow.commit()
        outcome = SnapshotOutcome(len(fresh), len(items) - len(fresh), frozenset(changed))
        if self.metrics is not None:
            self.metrics.snapshots(outcome.applied, outcome.duplicates)
        if outcome.plans:
            await self.refresh_metrics(sorted(outcome.plans))
        return outcome

    async def forget_processed(self, retention_days: int) -> int:
        async with self.uow() as uow:
            forgotten = await uow.live.forget_processed(self.now() - timedelta(days=retention_days))
            await uow.commit()
        return forgotten

    # -- deadline alerts ---------------------------------------------------------------------------------------
    async def raise_due_alerts(self) -> int:
        """Record the alerts today calls for (each once per task, kind and deadline); returns how many are new."""
        now = self.now()
        async with self.uow() as uow:
            open_tasks = await uow.tasks.open_tasks()
            alerts = due_alerts(open_tasks, self.today(), self.due_soon_days, now)
            recorded = await uow.alerts.record_new(alerts, now)
            await uow.commit()
        return recorded

    async def publish_pending(
        self, publish: Callable[[list[TaskAlertRaised]], Awaitable[None]], limit: int = 500
    ) -> int:
        """Publish recorded alerts not yet acknowledged; raises when publishing fails (they stay pending)."""
        published = 0
        while True:
            async with self.uow() as uow:
                pending = await uow.alerts.unpublished(limit)
            if not pending:
                break
            await publish(pending)
            async with self.uow() as uow:
                await uow.alerts.mark_published([alert.alert_id for alert in pending], self.now())
                await uow.commit()
            published += len(pending)
            if self.metrics is not None:
                for alert in pending:
                    self.metrics.alert_published(alert.kind.value)
            if len(pending) < limit:
                break
        return published


def _first_of_each(items: Sequence[SnapshotItem], seen: set[str]) -> dict[str, SnapshotItem]:
    """The first item of each message id not processed yet, in order (a batch may carry a redelivery twice)."""
    fresh: dict[str, SnapshotItem] = {}
    for item in items:
        if item.message_id not in seen and item.message_id not in fresh:
            fresh[item.message_id] = item
    return fresh
