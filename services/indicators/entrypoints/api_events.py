"""GET /v1/dossiers/{code}/events: a dossier's timeline as the indicators service recorded it (every event with
its time, pauses, due dates and reasons; agency and officer codes, never the applicant)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.indicators.adapters.event_log import dossier_events
from services.indicators.adapters.tables import Tables
from services.runtime.problems import Problem

# Fields of the dossier.* event data shown in a timeline; anything else (the applicant's kind included) stays out.
TIMELINE_FIELDS = (
    "agency",
    "officer",
    "channel",
    "due_at",
    "new_due_at",
    "reason",
    "to_agency",
    "to_officer",
    "delivery",
    "fee_amount",
    "paid_online",
    "result_electronic",
)


class TimelineEventOut(BaseModel):
    type: str = Field(description="Event type without its prefix: dossier.accepted, dossier.rescheduled, ...")
    time: datetime
    details: dict[str, Any] = Field(description=f"The event's own fields among: {', '.join(TIMELINE_FIELDS)}")


class TimelineOut(BaseModel):
    dossier_code: str
    count: int
    events: list[TimelineEventOut]


def build_events_router(engine: AsyncEngine, tables: Tables) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["indicators"])

    @router.get(
        "/dossiers/{code}/events",
        response_model=TimelineOut,
        summary="A dossier's events in time order (pauses, due dates, reasons); no personal data",
    )
    async def dossier_timeline(code: str = Path(max_length=256), limit: int = Query(500, ge=1, le=5000)) -> TimelineOut:
        async with engine.connect() as connection:
            events = await dossier_events(connection, tables, code, limit)
        if not events:
            raise Problem(404, f"no dossier with code {code!r}", errors=[{"field": "code", "reason": "unknown"}])
        return TimelineOut(
            dossier_code=code,
            count=len(events),
            events=[
                TimelineEventOut(
                    type=event.type,
                    time=event.time,
                    details={name: event.data[name] for name in TIMELINE_FIELDS if event.data.get(name) is not None},
                )
                for event in events
            ],
        )

    return router
