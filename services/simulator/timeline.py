"""A dossier's timeline: the cursor that staff actions advance, and the events it emits."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.contracts.catalog import TimeLimit, TimeUnit
from services.contracts.events import EventType
from services.simulator.calendar import Clock, LegalCalendar
from services.simulator.catalog import Commune, Procedure
from services.simulator.envelopes import SimEvent, make_event
from services.simulator.model import Config, DossierTruth
from services.simulator.people import Person

DAY = 27_000.0  # working seconds in a legal working day (7.5 h)


def due_at_for(legal: LegalCalendar, start: datetime, limit: TimeLimit) -> datetime:
    if limit.unit is TimeUnit.DAYS:
        return start + timedelta(days=limit.value)
    seconds = limit.value * (DAY if limit.unit is TimeUnit.WORKING_DAYS else 3600.0)
    return legal.add_working_time(start, seconds)


@dataclass
class DossierContext:
    rng: random.Random
    procedure: Procedure
    commune: Commune
    config: Config
    legal: LegalCalendar
    staff: Clock
    dossier_code: str
    channel: str
    submitted_at: datetime
    person: Person
    seed: int = 0  # for the deterministic officer workload (lateness.officer_week_pace)


class Life:
    def __init__(self, ctx: DossierContext) -> None:
        self.ctx, self.rng = ctx, ctx.rng
        self.t = ctx.submitted_at
        self.events: list[SimEvent] = []
        agency = ctx.procedure.agency
        self.truth = DossierTruth(
            dossier_code=ctx.dossier_code,
            procedure_code=ctx.procedure.code,
            level=ctx.procedure.level.value,
            agency=agency,
            final_agency=agency,
            receiving_agency=ctx.commune.receiving_agency,
            channel=ctx.channel,
            applicant_kind=ctx.person.applicant.kind.value,
            phone_kind=ctx.person.phone_kind,
            sms_consent=ctx.person.applicant.sms_consent,
            submitted_at=ctx.submitted_at,
            fee=ctx.procedure.fee,
        )

    def after(self, working_seconds: float) -> datetime:
        """Advance the cursor by staff working time (scaled), staying strictly after the previous event."""
        staff, scaled = self.ctx.staff, max(1.0, round(working_seconds / self.ctx.config.time_scale))
        candidate = staff.add_working_time(self.t, scaled)
        candidate = candidate.replace(microsecond=0) + timedelta(seconds=round(candidate.microsecond / 1e6))
        if candidate <= self.t:
            candidate = staff.add_working_time(self.t, 1.0)
        self.t = candidate
        return candidate

    def emit(self, event_type: EventType, step: str, data: dict[str, Any], source: str | None = None) -> None:
        ctx = self.ctx
        payload: dict[str, Any] = {"dossier_code": ctx.dossier_code}
        if event_type is not EventType.FEEDBACK_SUBMITTED:  # feedback carries exactly dossier_code, satisfied
            payload.update(procedure_code=ctx.procedure.code, agency=self.truth.final_agency)
        payload.update(data)
        self.events.append(
            make_event(
                event_type,
                source=source or ctx.commune.one_stop_source,
                event_id=f"{ctx.dossier_code}/{step}",
                time=self.t,
                subject=ctx.dossier_code,
                data=payload,
            )
        )

    def applicant(self) -> dict[str, Any]:
        return self.ctx.person.applicant.model_dump(mode="json")
