"""Dossier steps in the intake transaction: record each new dossier event's step, then supersede the waiting
messages a newer step made obsolete (in the same transaction as recording the event), and say which of the
batch's own would-be messages are already obsolete (an older event arriving after a newer one)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.contracts.alerts import NotificationStatus
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.policy import Decision
from services.notifier.domain.superseding import SUPERSEDED_REASON, superseded_by
from services.notifier.service_layer.claiming import superseded_change
from services.notifier.service_layer.messages import Change, Step, Waiting
from services.notifier.service_layer.unit_of_work import Steps, StepsRepository


@dataclass(frozen=True)
class Obsolete:
    message: Waiting
    by: str  # the newer step's event kind


def obsolete(messages: Iterable[Waiting], steps: Steps) -> list[Obsolete]:
    found = []
    for message in messages:
        by = superseded_by(message.event_kind, message.event_time, steps.get(message.dossier_code, {}))
        if by is not None:
            found.append(Obsolete(message, by))
    return found


def superseded(found: Sequence[Obsolete]) -> list[Change]:
    """`created` -> `superseded` (never sent; phone and text cleared like any message that will not leave)."""
    return [superseded_change(m.id, m.template_id, m.dossier_code, item.by) for item in found if (m := item.message)]


async def record_and_supersede(
    repository: StepsRepository, items: Sequence[Incoming], now: datetime
) -> tuple[Steps, list[Change]]:
    """The steps known for the batch's dossiers (this batch included) and the waiting messages superseded."""
    steps = [
        Step(item.dossier_code, item.kind, item.time)
        for item in items
        if item.dossier_code and item.kind.startswith("dossier.")
    ]
    await repository.record_steps(steps, now)
    codes = {item.dossier_code for item in items if item.dossier_code}
    if not codes:
        return {}, []
    known = await repository.steps(codes)
    waiting = await repository.waiting_messages(codes)
    changes = await repository.write(superseded(obsolete(waiting, known)), now)
    return known, changes


def superseded_decision(item: Incoming, steps: Steps) -> Decision | None:
    """`superseded` for a message whose own event is older than a superseding step already known."""
    if not item.dossier_code:
        return None
    by = superseded_by(item.kind, item.time, steps.get(item.dossier_code, {}))
    if by is None:
        return None
    return Decision(NotificationStatus.SUPERSEDED, SUPERSEDED_REASON, f"newer step: {by}")
