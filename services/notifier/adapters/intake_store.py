"""SQL of the intake transaction: processed events, dossier contacts, opt-outs and caps lookups, new
notifications (unique per event identity and template), consumer position."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from services.contracts.alerts import NotificationStatus
from services.notifier.adapters import dossier_steps
from services.notifier.adapters.delivery_store import write_changes
from services.notifier.adapters.sql import add_status_events, chunks, dialect_of, status_event
from services.notifier.adapters.tables import consumer_state, contacts, notifications, opt_outs, processed_events
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.statuses import AWAITING_CONTACT, COUNTED
from services.notifier.service_layer.messages import Change, CountedRow, Step, StoredContact, Waiting
from services.notifier.service_layer.unit_of_work import Steps
from services.runtime.db import conflict_insert

# The statements are built once (per backend) and reused with bound parameters: building one (an ON CONFLICT's
# `excluded` namespace, IN lists) cost more CPU than SQLite took to run it, for every batch.
_CODES: BindParameter[list[str]] = bindparam("codes", expanding=True)
_HASHES: BindParameter[list[str]] = bindparam("hashes", expanding=True)
_COUNTED = [status.value for status in COUNTED]


@cache
def _record_processed(dialect: str) -> Any:
    statement = conflict_insert(dialect, processed_events).on_conflict_do_nothing(index_elements=["source", "id"])
    return statement.returning(processed_events.c.source, processed_events.c.id)


async def record_processed(session: AsyncSession, items: Sequence[Incoming], at: datetime) -> list[Incoming]:
    """Insert each (source, id) not yet recorded; returns the new items, in their order, once each."""
    unique: dict[tuple[str, str], Incoming] = {}
    for item in items:
        unique.setdefault(item.identity, item)
    inserted: set[tuple[str, str]] = set()
    statement = _record_processed(dialect_of(session))
    for part in chunks(list(unique.values())):
        rows = [{"source": i.source, "id": i.id, "kind": i.kind, "processed_at": at} for i in part]
        result = await session.execute(statement, rows)
        inserted.update((row.source, row.id) for row in result)
    return [item for key, item in unique.items() if key in inserted]


_LOAD_CONTACTS = select(
    contacts.c.dossier_code,
    contacts.c.phone_encrypted,
    contacts.c.sms_consent,
    contacts.c.event_time,
    contacts.c.applicant_kind,
    contacts.c.channel,
).where(contacts.c.dossier_code.in_(_CODES))


async def load_contacts(session: AsyncSession, codes: Iterable[str]) -> dict[str, StoredContact]:
    found: dict[str, StoredContact] = {}
    for part in chunks(sorted(set(codes))):
        for row in await session.execute(_LOAD_CONTACTS, {"codes": list(part)}):
            found[row.dossier_code] = StoredContact(
                row.dossier_code, row.phone_encrypted, row.sms_consent, row.event_time, row.applicant_kind, row.channel
            )
    return found


@cache
def _upsert_contacts(dialect: str, columns: tuple[str, ...]) -> Any:
    statement = conflict_insert(dialect, contacts)
    return statement.on_conflict_do_update(
        index_elements=["dossier_code"],
        set_={name: statement.excluded[name] for name in columns if name != "dossier_code"},
        where=contacts.c.event_time <= statement.excluded.event_time,
    )


async def upsert_contacts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One row per dossier (the caller folds), replacing a stored row only with a newer event's."""
    if not rows:
        return
    statement = _upsert_contacts(dialect_of(session), tuple(rows[0]))
    for part in chunks(rows):
        await session.execute(statement, list(part))


_OPTED_OUT = select(opt_outs.c.phone_hash).where(opt_outs.c.phone_hash.in_(_HASHES))


async def opted_out(session: AsyncSession, hashes: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(sorted(set(hashes))):
        found.update((await session.execute(_OPTED_OUT, {"hashes": list(part)})).scalars())
    return found


_RECENT_CONTENT = select(notifications.c.content_hash).where(
    notifications.c.content_hash.in_(_HASHES),
    notifications.c.created_at >= bindparam("since"),
    notifications.c.status.in_(_COUNTED),
)


async def recent_content(session: AsyncSession, hashes: Iterable[str], since: datetime) -> set[str]:
    found: set[str] = set()
    for part in chunks(sorted(set(hashes))):
        result = await session.execute(_RECENT_CONTENT, {"hashes": list(part), "since": since})
        found.update(value for value in result.scalars() if value)
    return found


@cache
def _counted_between(column: str) -> Any:
    n = notifications.c
    return select(n.id, n.phone_hash, n.dossier_code, n.audience, n.send_after).where(
        n[column].in_(bindparam("values", expanding=True)),
        and_(n.send_after >= bindparam("start"), n.send_after < bindparam("end")),
        n.status.in_(_COUNTED),
    )


async def counted_between(
    session: AsyncSession, hashes: Iterable[str], dossiers: Iterable[str], start: datetime, end: datetime
) -> list[CountedRow]:
    """Notifications toward a cap (same phone, or same dossier) planned for [start, end)."""
    rows: list[CountedRow] = []
    seen: set[tuple[Any, ...]] = set()
    for column, values in (("phone_hash", hashes), ("dossier_code", dossiers)):
        for part in chunks(sorted(set(values))):
            parameters = {"values": list(part), "start": start, "end": end}
            for row in await session.execute(_counted_between(column), parameters):
                if row.id not in seen:
                    seen.add(row.id)
                    rows.append(CountedRow(row.phone_hash, row.dossier_code, row.audience, row.send_after))
    return rows


@cache
def _insert_notifications(dialect: str) -> Any:
    statement = conflict_insert(dialect, notifications)
    statement = statement.on_conflict_do_nothing(index_elements=["event_source", "event_id", "template_id"])
    return statement.returning(notifications.c.id)


async def insert_notifications(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert, never twice for one (event identity, template); returns the ids actually inserted."""
    inserted: set[str] = set()
    statement = _insert_notifications(dialect_of(session))
    for part in chunks(rows):
        inserted.update((await session.execute(statement, list(part))).scalars())
    return inserted


_AWAITING_CONTACT = (
    select(
        notifications.c.id,
        notifications.c.template_id,
        notifications.c.dossier_code,
        notifications.c.event_time,
        notifications.c.created_at,
        notifications.c.text,
        notifications.c.urgent,
    )
    .where(
        notifications.c.status == NotificationStatus.CREATED.value,
        notifications.c.reason == AWAITING_CONTACT,
        notifications.c.dossier_code.in_(_CODES),
    )
    .order_by(notifications.c.created_at)
)


async def awaiting_contact(session: AsyncSession, codes: Iterable[str]) -> list[Any]:
    """Citizen messages of these dossiers still waiting for the applicant's contact."""
    rows: list[Any] = []
    for part in chunks(sorted(set(codes))):
        rows.extend(await session.execute(_AWAITING_CONTACT, {"codes": list(part)}))
    return rows


@cache
def _save_position(dialect: str) -> Any:
    statement = conflict_insert(dialect, consumer_state)
    return statement.on_conflict_do_update(
        index_elements=["consumer"],
        set_={"stream_sequence": statement.excluded.stream_sequence, "updated_at": statement.excluded.updated_at},
        where=consumer_state.c.stream_sequence < statement.excluded.stream_sequence,
    )


async def save_position(session: AsyncSession, consumer: str, sequence: int, at: datetime) -> None:
    parameters = {"consumer": consumer, "stream_sequence": sequence, "updated_at": at}
    await session.execute(_save_position(dialect_of(session)), parameters)


class SqlIntake:
    """The intake's repository (`service_layer.unit_of_work.IntakeRepository`) on one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_processed(self, items: Sequence[Incoming], at: datetime) -> list[Incoming]:
        return await record_processed(self.session, items, at)

    async def contacts(self, dossier_codes: Collection[str]) -> dict[str, StoredContact]:
        return await load_contacts(self.session, dossier_codes)

    async def upsert_contacts(self, rows: Sequence[dict[str, Any]]) -> None:
        await upsert_contacts(self.session, rows)

    async def awaiting_contact(self, dossier_codes: Collection[str]) -> list[Any]:
        return await awaiting_contact(self.session, dossier_codes)

    async def insert_notifications(self, rows: Sequence[dict[str, Any]], at: datetime) -> set[str]:
        inserted = await insert_notifications(self.session, rows)
        events = [
            status_event(
                row["id"],
                row["template_id"],
                NotificationStatus(row["status"]),
                at,
                dossier_code=row["dossier_code"],
                reason=row["reason"],
            )
            for row in rows
            if row["id"] in inserted
        ]
        await add_status_events(self.session, events)
        return inserted

    async def save_position(self, consumer: str, sequence: int, at: datetime) -> None:
        await save_position(self.session, consumer, sequence, at)

    async def opted_out(self, phone_hashes: Collection[str]) -> set[str]:
        return await opted_out(self.session, phone_hashes)

    async def recent_content(self, content_hashes: Collection[str], since: datetime) -> set[str]:
        return await recent_content(self.session, content_hashes, since)

    async def counted_between(
        self, phone_hashes: Collection[str], dossier_codes: Collection[str], start: datetime, end: datetime
    ) -> list[CountedRow]:
        return await counted_between(self.session, phone_hashes, dossier_codes, start, end)

    async def record_steps(self, steps: Sequence[Step], at: datetime) -> None:
        await dossier_steps.record_steps(self.session, steps, at)

    async def steps(self, dossier_codes: Collection[str]) -> Steps:
        return await dossier_steps.load_steps(self.session, dossier_codes)

    async def waiting_messages(self, dossier_codes: Collection[str]) -> list[Waiting]:
        return await dossier_steps.waiting_messages(self.session, dossier_codes)

    async def write(self, changes: Sequence[Change], at: datetime) -> list[Change]:
        return await write_changes(self.session, changes, at)
