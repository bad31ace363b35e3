"""Dossiers read a page at a time, by code (the primary key), each page in a short read of its own.

The early-warning sweep and the model's training read every open (or recently accepted) dossier: 100,000 and
more in a province. Read and turned into `DossierState`s in one go, that is over a second of CPU on the event
loop during which the live consumer cannot apply a batch. A page costs a few milliseconds, and the event loop
serves the consumer and the API between pages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.indicators.adapters.store import row_to_state
from services.indicators.adapters.tables import Tables
from services.indicators.domain.dossier import DossierState

PAGE_SIZE = 250


async def dossier_pages(
    engine: AsyncEngine, tables: Tables, condition: ColumnElement[bool], page_size: int | None = None
) -> AsyncIterator[list[DossierState]]:
    """The dossiers matching `condition`, `page_size` at a time in code order. A dossier changed while the pages
    are read is seen in its state at the time its page is read (each dossier is decided on its own)."""
    d = tables.dossiers.c
    page_size = page_size or PAGE_SIZE
    after: str | None = None
    while True:
        query = select(tables.dossiers).where(condition).order_by(d.dossier_code).limit(page_size)
        if after is not None:
            query = query.where(d.dossier_code > after)
        async with engine.connect() as connection:
            page = [row_to_state(row) for row in (await connection.execute(query)).mappings()]
        if page:
            yield page
        if len(page) < page_size:
            return
        after = page[-1].dossier_code
        await asyncio.sleep(0)  # let a batch waiting for the event loop in before the next page


def open_condition(tables: Tables) -> ColumnElement[bool]:
    d = tables.dossiers.c
    return d.accepted_at.is_not(None) & d.ended_at.is_(None)


def accepted_since_condition(tables: Tables, since: object) -> ColumnElement[bool]:
    d = tables.dossiers.c
    return d.accepted_at.is_not(None) & (d.accepted_at >= since)
