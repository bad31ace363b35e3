"""Reads and writes of key rotation: every stored ciphertext and phone hash, and the fingerprint of the hash
key the stored hashes were made with."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Update, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.adapters.sql import chunks, insert
from services.notifier.adapters.tables import contacts, key_state, notifications, opt_outs

HASH_KEY = "hash_key"


async def stored_fingerprint(session: AsyncSession) -> str | None:
    query = select(key_state.c.fingerprint).where(key_state.c.name == HASH_KEY)
    return (await session.execute(query)).scalar_one_or_none()


async def record_fingerprint(session: AsyncSession, fingerprint: str, at: datetime) -> None:
    statement = insert(session, key_state).values(name=HASH_KEY, fingerprint=fingerprint, updated_at=at)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["name"], set_={"fingerprint": fingerprint, "updated_at": at})
    )


async def has_phone_hashes(session: AsyncSession) -> bool:
    for column in (opt_outs.c.phone_hash, notifications.c.phone_hash):
        if (await session.execute(select(column).where(column.is_not(None)).limit(1))).first() is not None:
            return True
    return False


async def _execute_in_chunks(session: AsyncSession, statement: Update, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany per chunk of rows (bounded parameter lists)."""
    for part in chunks(list(rows)):
        await session.execute(statement, list(part))


async def contact_rows(session: AsyncSession) -> list[Any]:
    c = contacts.c
    query = select(c.dossier_code, c.phone_encrypted, c.name_encrypted)
    return list(await session.execute(query.where(c.phone_encrypted.is_not(None) | c.name_encrypted.is_not(None))))


async def notification_rows(session: AsyncSession) -> list[Any]:
    n = notifications.c
    query = select(n.id, n.template_id, n.text, n.phone_encrypted, n.phone_hash, n.content_hash)
    return list(await session.execute(query.where(n.phone_encrypted.is_not(None) | n.phone_hash.is_not(None))))


async def opt_out_rows(session: AsyncSession) -> list[Any]:
    o = opt_outs.c
    return list(await session.execute(select(o.phone_hash, o.phone_encrypted, o.source, o.created_at)))


async def update_contacts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Only rows still holding what was read (`old_phone`, `old_name`): the service may have changed them since."""
    c = contacts.c
    statement = (
        update(contacts)
        .where(
            c.dossier_code == bindparam("key"),
            c.phone_encrypted.is_not_distinct_from(bindparam("old_phone")),
            c.name_encrypted.is_not_distinct_from(bindparam("old_name")),
        )
        .values(phone_encrypted=bindparam("phone"), name_encrypted=bindparam("name"))
    )
    await _execute_in_chunks(session, statement, rows)


async def update_notifications(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Only rows whose phone is still the one read (an opt-out or a purge may have cleared it since)."""
    n = notifications.c
    statement = (
        update(notifications)
        .where(
            n.id == bindparam("key"),
            n.phone_encrypted.is_not_distinct_from(bindparam("old_phone")),
            n.phone_hash.is_not_distinct_from(bindparam("old_hash")),
        )
        .values(phone_encrypted=bindparam("phone"), phone_hash=bindparam("hash"), content_hash=bindparam("content"))
    )
    await _execute_in_chunks(session, statement, rows)


async def replace_opt_outs(session: AsyncSession, old_hashes: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Opt-outs are keyed by their hash: the old rows go, the re-keyed ones come (one row per phone)."""
    for part in chunks(list(old_hashes)):
        await session.execute(delete(opt_outs).where(opt_outs.c.phone_hash.in_(part)))
    for part in chunks(list(rows)):
        statement = insert(session, opt_outs).values(list(part))
        await session.execute(statement.on_conflict_do_nothing(index_elements=["phone_hash"]))


class SqlRekeying:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def contact_rows(self) -> list[Any]:
        return await contact_rows(self.session)

    async def notification_rows(self) -> list[Any]:
        return await notification_rows(self.session)

    async def opt_out_rows(self) -> list[Any]:
        return await opt_out_rows(self.session)

    async def update_contacts(self, rows: Sequence[dict[str, Any]]) -> None:
        await update_contacts(self.session, rows)

    async def update_notifications(self, rows: Sequence[dict[str, Any]]) -> None:
        await update_notifications(self.session, rows)

    async def replace_opt_outs(self, old_hashes: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        await replace_opt_outs(self.session, old_hashes, rows)

    async def record_fingerprint(self, fingerprint: str, at: datetime) -> None:
        await record_fingerprint(self.session, fingerprint, at)
