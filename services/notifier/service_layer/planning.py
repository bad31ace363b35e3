"""Deciding a group of would-be notifications together: opt-outs, duplicates and daily caps are looked up once
for the group, and each decision counts toward the caps of the ones after it."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.contracts.alerts import NotificationStatus
from services.notifier.domain.policy import Decision, Facts, Limits, QuietHours, decide
from services.notifier.domain.templates import Audience
from services.notifier.domain.text import ContentRefused
from services.notifier.service_layer.unit_of_work import PlanningReads


def content_hash_of(phone_hash: str, template_id: str, text: str) -> str:
    """Identical text to one phone (the duplicate window); key rotation recomputes it with the phone hash."""
    return hashlib.sha256(f"{phone_hash}\n{template_id}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Candidate:
    template_id: str
    audience: Audience
    urgent: bool
    dossier_code: str | None
    event_time: datetime
    arrived_at: datetime  # an event's age is judged when it arrived
    has_recipient: bool
    contact_pending: bool  # a citizen message whose dossier contact has not arrived yet
    consent: bool
    e164: str | None
    phone_hash: str | None
    text: str | None
    refused: ContentRefused | None
    send_after: datetime

    @property
    def content_hash(self) -> str | None:
        if self.text is None or self.phone_hash is None:
            return None
        return content_hash_of(self.phone_hash, self.template_id, self.text)


def _day_bounds(days: set[date], timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    return datetime.combine(min(days), time(0), zone), datetime.combine(max(days) + timedelta(days=1), time(0), zone)


async def decide_all(
    reads: PlanningReads, candidates: Sequence[Candidate], now: datetime, quiet: QuietHours, limits: Limits
) -> list[Decision]:
    if not candidates:
        return []
    hashes = {c.phone_hash for c in candidates if c.phone_hash}
    dossiers = {c.dossier_code for c in candidates if c.dossier_code}
    opted = await reads.opted_out(hashes)
    recent = await reads.recent_content({h for c in candidates if (h := c.content_hash)}, now - limits.duplicate_window)
    start, end = _day_bounds({quiet.local_day(c.send_after) for c in candidates}, quiet.timezone)
    per_phone: Counter[tuple[str | None, date]] = Counter()
    per_dossier: Counter[tuple[str | None, date]] = Counter()
    for counted in await reads.counted_between(hashes, dossiers, start, end):
        day = quiet.local_day(counted.send_after)
        if counted.phone_hash in hashes:
            per_phone[(counted.phone_hash, day)] += 1
        if counted.audience == Audience.CITIZEN.value and counted.dossier_code in dossiers:
            per_dossier[(counted.dossier_code, day)] += 1
    decisions: list[Decision] = []
    for c in candidates:
        day = quiet.local_day(c.send_after)
        content_hash = c.content_hash
        facts = Facts(
            audience=c.audience,
            urgent=c.urgent,
            event_time=c.event_time,
            now=c.arrived_at,
            has_recipient=c.has_recipient,
            consent=c.consent,
            phone_valid=c.e164 is not None,
            opted_out=c.phone_hash in opted,
            refused=c.refused,
            duplicate=content_hash is not None and content_hash in recent,
            recipient_sent_that_day=per_phone[(c.phone_hash, day)],
            dossier_sent_that_day=per_dossier[(c.dossier_code, day)],
            contact_pending=c.contact_pending,
        )
        decision = decide(facts, c.send_after, limits)
        if decision.status is NotificationStatus.CREATED and decision.send_after is not None:
            per_phone[(c.phone_hash, day)] += 1
            if c.audience is Audience.CITIZEN:
                per_dossier[(c.dossier_code, day)] += 1
            if content_hash:
                recent.add(content_hash)
        decisions.append(decision)
    return decisions
