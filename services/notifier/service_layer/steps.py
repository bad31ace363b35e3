"""Dossier steps in the intake transaction: record each new dossier event's step, then supersede the waiting
messages a newer step made obsolete (in the same transaction as recording the event), and say which of the
batch's own would-be messages are already obsolete (an older event arriving after a newer one)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.alerts import NotificationStatus
from services.notifier.adapters import dossier_steps
from services.notifier.adapters.delivery_store import superseded, write_changes
from services.notifier.adapters.dossier_steps import Step, Steps
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.policy import Decision
from services.notifier.domain.superseding import SUPERSEDED_REASON, superseded_by
from services.notifier.service_layer.messages import Change


async def record_and_supersede(
    session: AsyncSession, items: Sequence[Incoming], now: datetime
) -> tuple[Steps, list[Change]]:
    """The steps known for the batch's dossiers (this batch included) and the waiting messages superseded."""
    steps = [
        Step(item.dossier_code, item.kind, item.time)
        for item in items
        if item.dossier_code and item.kind.startswith("dossier.")
    ]
    await dossier_steps.record_steps(session, steps, now)
    codes = {item.dossier_code for item in items if item.dossier_code}
    if not codes:
        return {}, []
    known = await dossier_steps.load_steps(session, codes)
    waiting = await dossier_steps.waiting_messages(session, codes)
    changes = await write_changes(session, superseded(dossier_steps.obsolete(waiting, known)), now)
    return known, changes


def superseded_decision(item: Incoming, steps: Steps) -> Decision | None:
    """`superseded` for a message whose own event is older than a superseding step already known."""
    if not item.dossier_code:
        return None
    by = superseded_by(item.kind, item.time, steps.get(item.dossier_code, {}))
    if by is None:
        return None
    return Decision(NotificationStatus.SUPERSEDED, SUPERSEDED_REASON, f"newer step: {by}")
