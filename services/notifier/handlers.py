"""Intake: events and alerts -> notifications, recorded in ONE transaction with the processed-event record
(DESIGN §7), so a redelivered event never creates (or sends) a second message. Sending is the dispatcher's."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.contracts.alerts import NotificationStatus
from services.notifier.adapters import intake_store as store
from services.notifier.adapters.crypto import PhoneVault
from services.notifier.adapters.sql import add_status_events, status_event
from services.notifier.adapters.staff import StaffDirectory
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.policy import Decision, Facts, Limits, QuietHours, decide, schedule
from services.notifier.domain.templates import Audience
from services.notifier.domain.text import ContentRefused, PreparedText
from services.notifier.domain.triggers import Trigger, Triggers

Clock = Callable[[], datetime]
NOTIFICATION_NAMESPACE = uuid.UUID("5b0f6b8e-3c7e-4f53-9d1e-8f7a2c4d6e10")


def notification_id(source: str, event_id: str, template_id: str) -> str:
    """Stable id of the one notification an (event identity, template) may produce."""
    return str(uuid.uuid5(NOTIFICATION_NAMESPACE, f"{source}\n{event_id}\n{template_id}"))


@dataclass(frozen=True)
class Transition:
    """A notification entered `status` (for metrics, after the commit)."""

    template: str
    status: NotificationStatus


@dataclass(frozen=True)
class Contact:
    phone: str | None  # as the producer sent it
    consent: bool


@dataclass
class Candidate:
    item: Incoming
    trigger: Trigger
    recipient_ref: str | None
    has_recipient: bool
    consent: bool
    e164: str | None
    phone_hash: str | None
    prepared: PreparedText | None
    refused: ContentRefused | None
    send_after: datetime
    content_hash: str | None


class Intake:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        vault: PhoneVault,
        to_e164: Callable[[str | None], str | None],
        staff: StaffDirectory,
        triggers: Triggers,
        quiet: QuietHours,
        limits: Limits,
        now: Clock,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.to_e164 = to_e164
        self.staff = staff
        self.triggers = triggers
        self.quiet = quiet
        self.limits = limits
        self.now = now

    async def apply(self, items: Sequence[Incoming], consumer: str) -> list[Transition]:
        """Record the batch's new events and plan their notifications; the caller acks after this returns."""
        now = self.now()
        self.staff.refresh()
        transitions: list[Transition] = []
        sequences = [item.sequence for item in items if item.sequence is not None]
        async with self.sessions.begin() as session:
            new = await store.record_processed(session, items, now)
            if new:
                contacts = await self._contacts(session, new, now)
                candidates = [
                    self._candidate(item, trigger, contacts, now)
                    for item in new
                    for trigger in self.triggers.for_kind(item.kind)
                ]
                transitions = await self._plan(session, candidates, now)
            if sequences:
                await store.save_position(session, consumer, max(sequences), now)
        return transitions

    async def _contacts(self, session: AsyncSession, new: Sequence[Incoming], now: datetime) -> dict[str, Contact]:
        latest: dict[str, Incoming] = {}
        for item in new:
            if item.applicant is not None and item.dossier_code:
                held = latest.get(item.dossier_code)
                if held is None or item.time >= held.time:
                    latest[item.dossier_code] = item
        stored = await store.load_contacts(session, [item.dossier_code for item in new if item.dossier_code])
        rows: list[dict[str, Any]] = []
        known: dict[str, Contact] = {
            code: Contact(self.vault.decrypt(row.phone_encrypted), row.sms_consent) for code, row in stored.items()
        }
        for code, item in latest.items():
            applicant = item.applicant
            assert applicant is not None
            previous = stored.get(code)
            if previous is not None and item.time < previous.event_time:
                continue
            phone = applicant.phone.strip() if applicant.phone and applicant.phone.strip() else None
            known[code] = Contact(phone, applicant.sms_consent)
            rows.append(
                {
                    "dossier_code": code,
                    "phone_encrypted": self.vault.encrypt(phone) if phone else None,
                    "name_encrypted": self.vault.encrypt(applicant.name),
                    "sms_consent": applicant.sms_consent,
                    "applicant_kind": applicant.kind,
                    "event_time": item.time,
                    "updated_at": now,
                }
            )
        if rows:
            await store.upsert_contacts(session, rows)
        return known

    def _candidate(self, item: Incoming, trigger: Trigger, contacts: dict[str, Contact], now: datetime) -> Candidate:
        recipient_ref: str | None = None
        if trigger.audience is Audience.CITIZEN:
            contact = contacts.get(item.dossier_code or "")
            phone, consent = (contact.phone, contact.consent) if contact else (None, False)
        else:
            staff = self.staff.lookup(item.officer, item.unit)
            phone, consent = (staff.phone, True) if staff else (None, True)
            recipient_ref = staff.code if staff else None
        e164 = self.to_e164(phone) if phone else None
        phone_hash = self.vault.hash(e164) if e164 else None
        prepared: PreparedText | None = None
        refused: ContentRefused | None = None
        try:
            prepared = trigger.template.render(item.values)
        except ContentRefused as error:
            refused = error
        content_hash = None
        if prepared is not None and phone_hash is not None:
            digest = f"{phone_hash}\n{trigger.template.id}\n{prepared.text}".encode()
            content_hash = hashlib.sha256(digest).hexdigest()
        return Candidate(
            item=item,
            trigger=trigger,
            recipient_ref=recipient_ref,
            has_recipient=phone is not None,
            consent=consent,
            e164=e164,
            phone_hash=phone_hash,
            prepared=prepared,
            refused=refused,
            send_after=schedule(now, trigger.urgent, self.quiet),
            content_hash=content_hash,
        )

    def _day_bounds(self, days: set[date]) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.quiet.timezone)
        return datetime.combine(min(days), time(0), zone), datetime.combine(
            max(days) + timedelta(days=1), time(0), zone
        )

    async def _plan(self, session: AsyncSession, candidates: Sequence[Candidate], now: datetime) -> list[Transition]:
        if not candidates:
            return []
        hashes = {c.phone_hash for c in candidates if c.phone_hash}
        dossiers = {c.item.dossier_code for c in candidates if c.item.dossier_code}
        opted = await store.opted_out(session, hashes)
        recent = await store.recent_content(
            session, {c.content_hash for c in candidates if c.content_hash}, now - self.limits.duplicate_window
        )
        start, end = self._day_bounds({self.quiet.local_day(c.send_after) for c in candidates})
        per_phone: Counter[tuple[str | None, date]] = Counter()
        per_dossier: Counter[tuple[str | None, date]] = Counter()
        for counted in await store.counted_between(session, hashes, dossiers, start, end):
            day = self.quiet.local_day(counted.send_after)
            if counted.phone_hash in hashes:
                per_phone[(counted.phone_hash, day)] += 1
            if counted.audience == Audience.CITIZEN.value and counted.dossier_code in dossiers:
                per_dossier[(counted.dossier_code, day)] += 1
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        transitions: list[Transition] = []
        for c in candidates:
            day = self.quiet.local_day(c.send_after)
            facts = Facts(
                audience=c.trigger.audience,
                urgent=c.trigger.urgent,
                event_time=c.item.time,
                now=now,
                has_recipient=c.has_recipient,
                consent=c.consent,
                phone_valid=c.e164 is not None,
                opted_out=c.phone_hash in opted,
                refused=c.refused,
                duplicate=c.content_hash is not None and c.content_hash in recent,
                recipient_sent_that_day=per_phone[(c.phone_hash, day)],
                dossier_sent_that_day=per_dossier[(c.item.dossier_code, day)],
            )
            decision = decide(facts, c.send_after, self.limits)
            if decision.status is NotificationStatus.CREATED:
                per_phone[(c.phone_hash, day)] += 1
                if c.trigger.audience is Audience.CITIZEN:
                    per_dossier[(c.item.dossier_code, day)] += 1
                if c.content_hash:
                    recent.add(c.content_hash)
            rows.append(self._row(c, decision, now))
        inserted = await store.insert_notifications(session, rows)
        for row in rows:
            if row["id"] in inserted:
                status = NotificationStatus(row["status"])
                events.append(
                    status_event(
                        row["id"],
                        row["template_id"],
                        status,
                        now,
                        dossier_code=row["dossier_code"],
                        reason=row["reason"],
                    )
                )
                transitions.append(Transition(row["template_id"], status))
        await add_status_events(session, events)
        return transitions

    def _row(self, c: Candidate, decision: Decision, now: datetime) -> dict[str, Any]:
        created = decision.status is NotificationStatus.CREATED
        prepared = c.prepared if created else None
        item, template = c.item, c.trigger.template
        return {
            "id": notification_id(item.source, item.id, template.id),
            "event_source": item.source,
            "event_id": item.id,
            "template_id": template.id,
            "template_version": template.version,
            "event_kind": item.kind,
            "event_time": item.time,
            "audience": c.trigger.audience.value,
            "dossier_code": item.dossier_code,
            "recipient_ref": c.recipient_ref,
            "phone_encrypted": self.vault.encrypt(c.e164) if created and c.e164 else None,
            "phone_hash": c.phone_hash if created else None,
            "content_hash": c.content_hash if created else None,
            "text": prepared.text if prepared else None,
            "encoding": prepared.length.encoding.value if prepared else None,
            "segments": prepared.length.segments if prepared else None,
            "characters": prepared.length.characters if prepared else None,
            "urgent": c.trigger.urgent,
            "status": decision.status.value,
            "reason": decision.reason,
            "detail": decision.detail,
            "provider": None,
            "provider_reference": None,
            "attempts": 0,
            "send_after": decision.send_after,
            "created_at": now,
            "updated_at": now,
            "sent_at": None,
            "completed_at": None if created else now,
        }
