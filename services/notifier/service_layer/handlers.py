"""Intake: events and alerts -> notifications, recorded in ONE transaction with the processed-event record
(design §7), so a redelivered event never creates (or sends) a second message. Sending is the dispatcher's."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.contracts.alerts import NotificationStatus
from services.notifier.domain.addressing import addressed
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.policy import Decision, Limits, QuietHours, Reach, decided_early, schedule
from services.notifier.domain.templates import Audience
from services.notifier.domain.text import ContentRefused, PreparedText
from services.notifier.domain.triggers import Trigger, Triggers
from services.notifier.service_layer.messages import Change
from services.notifier.service_layer.planning import Candidate, decide_all
from services.notifier.service_layer.ports import PhoneVault, StaffDirectory
from services.notifier.service_layer.steps import record_and_supersede, superseded_decision
from services.notifier.service_layer.unit_of_work import IntakeRepository, IntakeUnitOfWork, Steps

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
    kind: str | None = None  # citizen or business: how messages address the applicant
    channel: str | None = None


@dataclass(frozen=True)
class Planned:
    item: Incoming
    trigger: Trigger
    recipient_ref: str | None
    candidate: Candidate | None  # None: `decided` early, without its text, phone number or lookups
    prepared: PreparedText | None
    decided: Decision | None = None


class Intake:
    def __init__(
        self,
        *,
        units: Callable[[], IntakeUnitOfWork],
        vault: PhoneVault,
        to_e164: Callable[[str | None], str | None],
        staff: StaffDirectory,
        triggers: Triggers,
        quiet: QuietHours,
        limits: Limits,
        now: Clock,
    ) -> None:
        self.units = units
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
        async with self.units() as unit:
            store = unit.intake
            new = await store.record_processed(items, now)
            if new:
                steps, superseded = await record_and_supersede(store, new, now)
                transitions = [Transition(change.template_id, change.status) for change in superseded]
                contacts, arrived = await self._contacts(store, new, now)
                transitions += await self._resolve(store, arrived, contacts, now)
                planned = [
                    self._planned(item, trigger, contacts, now)
                    for item in new
                    for trigger in self.triggers.for_kind(item.kind)
                ]
                transitions += await self._insert(store, planned, steps, now)
            if sequences:
                await store.save_position(consumer, max(sequences), now)
            await unit.commit()
        return transitions

    async def _contacts(
        self, store: IntakeRepository, new: Sequence[Incoming], now: datetime
    ) -> tuple[dict[str, Contact], set[str]]:
        """Every known contact of the batch's dossiers, and the dossiers whose contact this batch brought."""
        latest: dict[str, Incoming] = {}
        for item in new:
            if item.applicant is not None and item.dossier_code:
                held = latest.get(item.dossier_code)
                if held is None or item.time >= held.time:
                    latest[item.dossier_code] = item
        stored = await store.contacts({item.dossier_code for item in new if item.dossier_code})
        rows: list[dict[str, Any]] = []
        known: dict[str, Contact] = {
            code: Contact(self.vault.decrypt(row.phone_encrypted), row.sms_consent, row.applicant_kind, row.channel)
            for code, row in stored.items()
        }
        for code, item in latest.items():
            applicant = item.applicant
            assert applicant is not None
            previous = stored.get(code)
            if previous is not None and item.time < previous.event_time:
                continue
            phone = applicant.phone.strip() if applicant.phone and applicant.phone.strip() else None
            known[code] = Contact(phone, applicant.sms_consent, applicant.kind, applicant.channel)
            rows.append(
                {
                    "dossier_code": code,
                    "phone_encrypted": self.vault.encrypt(phone) if phone else None,
                    "name_encrypted": self.vault.encrypt(applicant.name),
                    "sms_consent": applicant.sms_consent,
                    "applicant_kind": applicant.kind,
                    "channel": applicant.channel,
                    "event_time": item.time,
                    "updated_at": now,
                }
            )
        if rows:
            await store.upsert_contacts(rows)
        return known, {row["dossier_code"] for row in rows}

    def _planned(self, item: Incoming, trigger: Trigger, contacts: dict[str, Contact], now: datetime) -> Planned:
        recipient_ref: str | None = None
        pending = False
        values = item.values
        if trigger.audience is Audience.CITIZEN:
            contact = contacts.get(item.dossier_code or "")
            pending = contact is None  # its submitted/accepted may still be on its way
            phone, consent = (contact.phone, contact.consent) if contact else (None, False)
            values = addressed(values, contact.kind, contact.channel) if contact else values
        else:
            staff = self.staff.lookup(item.officer, item.unit)
            phone, consent = (staff.phone, True) if staff else (None, True)
            recipient_ref = staff.code if staff else None
        early = decided_early(Reach(trigger.audience, item.time, now, phone is not None, consent, pending), self.limits)
        if early is not None:
            return Planned(item, trigger, recipient_ref, None, None, early)
        e164 = self.to_e164(phone) if phone else None
        prepared: PreparedText | None = None
        refused: ContentRefused | None = None
        try:
            prepared = trigger.template.render(values)
        except ContentRefused as error:
            refused = error
        candidate = Candidate(
            template_id=trigger.template.id,
            audience=trigger.audience,
            urgent=trigger.urgent,
            dossier_code=item.dossier_code,
            event_time=item.time,
            arrived_at=now,
            has_recipient=phone is not None,
            contact_pending=pending,
            consent=consent,
            e164=e164,
            phone_hash=self.vault.hash(e164) if e164 else None,
            text=prepared.text if prepared else None,
            refused=refused,
            send_after=schedule(now, trigger.urgent, self.quiet),
        )
        return Planned(item, trigger, recipient_ref, candidate, prepared)

    async def _insert(
        self, store: IntakeRepository, planned: Sequence[Planned], steps: Steps, now: datetime
    ) -> list[Transition]:
        # An event arriving after a newer step of its dossier: its message is superseded before it counts
        # toward caps (a stale replay stays `stale_event`).
        obsolete = {
            index: decision
            for index, p in enumerate(planned)
            if now - p.item.time <= self.limits.max_event_age
            and (decision := superseded_decision(p.item, steps)) is not None
        }
        rest = [p.candidate for index, p in enumerate(planned) if index not in obsolete and p.candidate is not None]
        decided = iter(await decide_all(store, rest, now, self.quiet, self.limits))
        decisions = [
            obsolete[index] if index in obsolete else p.decided or next(decided) for index, p in enumerate(planned)
        ]
        rows = [self._row(p, decision, now) for p, decision in zip(planned, decisions, strict=True)]
        inserted = await store.insert_notifications(rows, now)
        inserted_rows = [row for row in rows if row["id"] in inserted]
        return [Transition(row["template_id"], NotificationStatus(row["status"])) for row in inserted_rows]

    async def _resolve(
        self, store: IntakeRepository, codes: set[str], contacts: dict[str, Contact], now: datetime
    ) -> list[Transition]:
        """Messages that were waiting for these dossiers' contact are decided now, as if it had come first."""
        waiting = await store.awaiting_contact(codes)
        candidates = []
        for row in waiting:
            contact = contacts[row.dossier_code]
            e164 = self.to_e164(contact.phone) if contact.phone else None
            candidates.append(
                Candidate(
                    template_id=row.template_id,
                    audience=Audience.CITIZEN,
                    urgent=row.urgent,
                    dossier_code=row.dossier_code,
                    event_time=row.event_time,
                    arrived_at=row.created_at,
                    has_recipient=contact.phone is not None,
                    contact_pending=False,
                    consent=contact.consent,
                    e164=e164,
                    phone_hash=self.vault.hash(e164) if e164 else None,
                    text=row.text,
                    refused=None,
                    send_after=schedule(now, row.urgent, self.quiet),
                )
            )
        decisions = await decide_all(store, candidates, now, self.quiet, self.limits)
        changes: list[Change] = []
        for row, c, decision in zip(waiting, candidates, decisions, strict=True):
            if decision.status is NotificationStatus.CREATED:
                values: dict[str, Any] = {
                    "reason": None,
                    "phone_encrypted": self.vault.encrypt(c.e164) if c.e164 else None,
                    "phone_hash": c.phone_hash,
                    "content_hash": c.content_hash,
                    "send_after": decision.send_after,
                }
            else:
                values = {"reason": decision.reason, "detail": decision.detail, "text": None}
            changes.append(Change(row.id, row.template_id, row.dossier_code, decision.status, values, decision.reason))
        applied = await store.write(changes, now)
        return [Transition(change.template_id, change.status) for change in applied]

    def _row(self, planned: Planned, decision: Decision, now: datetime) -> dict[str, Any]:
        created = decision.status is NotificationStatus.CREATED
        prepared = planned.prepared if created else None
        item, template = planned.item, planned.trigger.template
        c = planned.candidate if created else None
        return {
            "id": notification_id(item.source, item.id, template.id),
            "event_source": item.source,
            "event_id": item.id,
            "template_id": template.id,
            "template_version": template.version,
            "event_kind": item.kind,
            "event_time": item.time,
            "audience": planned.trigger.audience.value,
            "dossier_code": item.dossier_code,
            "recipient_ref": planned.recipient_ref,
            "phone_encrypted": self.vault.encrypt(c.e164) if c and c.e164 else None,
            "phone_hash": c.phone_hash if c else None,
            "content_hash": c.content_hash if c else None,
            "text": prepared.text if prepared else None,
            "encoding": prepared.length.encoding.value if prepared else None,
            "segments": prepared.length.segments if prepared else None,
            "characters": prepared.length.characters if prepared else None,
            "urgent": planned.trigger.urgent,
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
