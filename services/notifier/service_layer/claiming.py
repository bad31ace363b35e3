"""Claiming due notifications for sending: those that must not leave any more (opt-out, consent withdrawn, a
newer step of the dossier) become `skipped` or `superseded`, decided on the state at the moment of sending; the
rest become `sending`. The caller's unit of work holds the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.contracts.alerts import NotificationStatus as S
from services.notifier.domain.blocking import blocked_reason
from services.notifier.domain.statuses import ensure_transition
from services.notifier.domain.superseding import SUPERSEDED_BY, SUPERSEDED_REASON, superseded_by
from services.notifier.service_layer.messages import Change, Claimed, Due
from services.notifier.service_layer.unit_of_work import DeliveryRepository, Steps


@dataclass(frozen=True)
class Claim:
    claimed: list[Claimed]
    stopped: list[Change]  # skipped or superseded instead of sent


def _cleared(reason: str, **more: str) -> dict[str, str | None]:
    """A message that will not leave keeps neither its phone nor its text."""
    return {"reason": reason, "phone_encrypted": None, "text": None, **more}


def _skipped(due: Sequence[Due], opted: set[str], consent: dict[str, bool | None]) -> list[Change]:
    changes = []
    for row in due:
        reason = blocked_reason(
            audience=row.audience,
            opted_out=row.phone_hash in opted,
            consent=consent.get(row.dossier_code) if row.dossier_code else None,
        )
        if reason:
            status = ensure_transition(S.CREATED, S.SKIPPED)
            changes.append(Change(row.id, row.template_id, row.dossier_code, status, _cleared(reason), reason))
    return changes


def superseded_change(notification_id: str, template_id: str, dossier_code: str | None, by: str) -> Change:
    """`created` -> `superseded`: a newer step (`by`, its event kind) made the message obsolete before it left."""
    status = ensure_transition(S.CREATED, S.SUPERSEDED)
    values = _cleared(SUPERSEDED_REASON, detail=f"newer step: {by}")
    return Change(notification_id, template_id, dossier_code, status, values, SUPERSEDED_REASON)


def _superseded(due: Sequence[Due], steps: Steps) -> list[Change]:
    changes = []
    for row in due:
        if not (row.dossier_code and row.event_kind and row.event_time):
            continue
        by = superseded_by(row.event_kind, row.event_time, steps.get(row.dossier_code, {}))
        if by is not None:
            changes.append(superseded_change(row.id, row.template_id, row.dossier_code, by))
    return changes


async def _stopped(deliveries: DeliveryRepository, due: Sequence[Due]) -> list[Change]:
    opted = await deliveries.opted_out(sorted({row.phone_hash for row in due if row.phone_hash}))
    codes = sorted({row.dossier_code for row in due if row.dossier_code and row.audience == "citizen"})
    changes = _skipped(due, opted, await deliveries.consents(codes))
    skipped = {change.id for change in changes}
    waiting = [row for row in due if row.id not in skipped and row.dossier_code and row.event_kind in SUPERSEDED_BY]
    if waiting:
        steps = await deliveries.steps({row.dossier_code for row in waiting if row.dossier_code})
        changes += _superseded(waiting, steps)
    return changes


async def claim_due(deliveries: DeliveryRepository, now: datetime, limit: int, urgent_only: bool) -> Claim:
    """Up to `limit` due notifications: `sending` (returned with the attempt being made), or stopped."""
    due = await deliveries.due(now, limit, urgent_only)
    if not due:
        return Claim([], [])
    stopped = await deliveries.write(await _stopped(deliveries, due), now)
    left = {row.id: row for row in due if row.id not in {change.id for change in stopped}}
    ensure_transition(S.CREATED, S.SENDING)
    moved = await deliveries.mark_sending([left[key] for key in sorted(left)], now)
    claimed = [
        Claimed(
            row.id,
            row.template_id,
            row.dossier_code,
            row.audience,
            row.phone_encrypted,
            row.text,
            row.encoding,
            row.segments,
            row.attempts + 1,
        )
        for row in (left[moved_id] for moved_id in moved)
    ]
    return Claim(claimed, stopped)
