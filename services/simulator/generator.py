"""Deterministic commune traffic: `generate(seed, start, end) -> Simulation` (events in time order + truth).

Every day (and every live slot) has its own random stream derived from the seed and the date, and every
dossier its own stream derived from the seed and its code, so any window of the same seed yields the same
dossiers, codes and event ids: a restart re-sends the same events, which ingest deduplicates.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.contracts.dossier import ApplicantKind
from services.contracts.events import EventType
from services.simulator.calendar import AlwaysOpen, Clock, LegalCalendar
from services.simulator.catalog import Catalog, Commune, Procedure, load_catalog, load_commune
from services.simulator.envelopes import SimEvent, make_event
from services.simulator.lifecycle import DossierContext, plan_dossier
from services.simulator.model import Config, DocumentTruth, DossierTruth
from services.simulator.people import applicant
from services.simulator.truth import Truth

WEEKDAY_FACTOR = (1.2, 1.05, 1.0, 0.95, 0.85, 0.0, 0.0)
MONTH_FACTOR = (1.15, 0.8, 1.1, 1.0, 1.0, 1.0, 1.05, 1.1, 1.0, 1.0, 1.0, 1.1)
# (start hour, end hour, weight) at the counter; online submissions follow the citizens' day.
COUNTER_HOURS = (
    (7.5, 8, 0.6),
    (8, 9, 1.3),
    (9, 10, 1.4),
    (10, 11, 1.1),
    (11, 11.5, 0.5),
    (13.5, 14, 0.7),
    (14, 15, 1.1),
    (15, 16, 1.0),
    (16, 17, 0.6),
)
ONLINE_HOURS = (
    (0, 6, 0.05),
    (6, 7, 0.2),
    (7, 8, 0.6),
    (8, 11, 1.2),
    (11, 13, 0.8),
    (13, 17, 1.1),
    (17, 20, 0.7),
    (20, 23, 0.5),
    (23, 24, 0.15),
)
OFF_DAY_ONLINE = 0.12  # share of a working day's online volume submitted on a weekend or holiday
LIVE_SLOT = timedelta(minutes=10)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    """What a simulation runs against: catalogue, commune, calendars, parameters."""

    catalog: Catalog
    commune: Commune
    legal: LegalCalendar
    config: Config

    @property
    def staff(self) -> Clock:
        return AlwaysOpen(self.legal.timezone) if self.config.office == "always" else self.legal


def default_world(config: Config | None = None) -> World:
    return World(load_catalog(), load_commune(), LegalCalendar(), config or Config())


@dataclass
class Simulation:
    """`events`: everything at or before `cutoff`, in time order; `pending`: the planned future."""

    seed: int
    start: datetime
    end: datetime
    cutoff: datetime
    events: list[SimEvent]
    pending: list[SimEvent]
    truth: Truth

    def documents(self) -> list[dict[str, object]]:
        return [event.document for event in self.events]


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _instant(rng: random.Random, day: date, hours: tuple[tuple[float, float, float], ...], world: World) -> datetime:
    start, end, _ = rng.choices(hours, weights=[weight for _, _, weight in hours])[0]
    second = int(rng.uniform(start * 3600, end * 3600 - 1))
    midnight = datetime.combine(day, time(0), tzinfo=world.legal.timezone)
    return midnight + timedelta(seconds=second)


def _pick(rng: random.Random, world: World) -> tuple[Procedure, str]:
    procedures = world.catalog.procedures
    procedure = rng.choices(procedures, weights=[p.weight for p in procedures])[0]
    cfg, draw = world.config, rng.random()
    channel = (
        "online" if draw < cfg.online_share else "postal" if draw < cfg.online_share + cfg.postal_share else "direct"
    )
    if procedure.level.value == "none" and channel == "online":
        channel = "direct"
    return procedure, channel


def day_arrivals(seed: int, day: date, world: World) -> list[tuple[datetime, Procedure, str]]:
    """The day's submissions on the legal calendar: (instant, procedure, channel), in time order."""
    rng, cfg = random.Random(f"{seed}:arrivals:{day.isoformat()}"), world.config
    working = world.legal.is_working_day(day)
    base = cfg.daily_dossiers * cfg.intensity * MONTH_FACTOR[day.month - 1]
    mean = base * max(WEEKDAY_FACTOR[day.weekday()], 0.85) if working else base * cfg.online_share * OFF_DAY_ONLINE
    arrivals = []
    for _ in range(poisson(rng, mean)):
        procedure, channel = _pick(rng, world)
        if not working:
            if procedure.level.value == "none":
                continue
            channel = "online"
        hours = ONLINE_HOURS if channel == "online" else COUNTER_HOURS
        arrivals.append((_instant(rng, day, hours, world), procedure, channel))
    return sorted(arrivals, key=lambda item: item[0])


def slot_arrivals(seed: int, slot_start: datetime, world: World) -> list[tuple[datetime, Procedure, str]]:
    """Arrivals of one live slot with the office always open: uniform in time, `intensity` x the daily rate."""
    rng, cfg = random.Random(f"{seed}:live:{int(slot_start.timestamp())}"), world.config
    mean = cfg.daily_dossiers * cfg.intensity * LIVE_SLOT / timedelta(days=1)
    arrivals = []
    for _ in range(poisson(rng, mean)):
        procedure, channel = _pick(rng, world)
        offset = timedelta(seconds=int(rng.uniform(0, LIVE_SLOT.total_seconds() - 1)))
        arrivals.append((slot_start + offset, procedure, channel))
    return sorted(arrivals, key=lambda item: item[0])


def _dossier(
    seed: int, code: str, when: datetime, procedure: Procedure, channel: str, world: World
) -> tuple[list[SimEvent], DossierTruth]:
    rng = random.Random(f"{seed}:dossier:{code}")
    business = procedure.applicant == "business" or (procedure.applicant == "mixed" and rng.random() < 0.2)
    kind = ApplicantKind.BUSINESS if business else ApplicantKind.CITIZEN
    person = applicant(rng, kind, world.config.sms_consent_share)
    ctx = DossierContext(
        rng, procedure, world.commune, world.config, world.legal, world.staff, code, channel, when, person, seed
    )
    return plan_dossier(ctx)


def _documents(seed: int, day: date, world: World) -> Iterator[tuple[SimEvent, DocumentTruth]]:
    if not world.legal.is_working_day(day):
        return
    rng, cfg = random.Random(f"{seed}:documents:{day.isoformat()}"), world.config
    agencies = [agency.code for agency in world.commune.agencies]
    times = sorted(_instant(rng, day, COUNTER_HOURS, world) for _ in range(poisson(rng, cfg.documents_per_day)))
    for number, when in enumerate(times, start=1):
        truth = DocumentTruth(
            f"VB-{day:%y%m%d}-{number:04d}", rng.choice(agencies), when, rng.random() < cfg.fully_electronic_share
        )
        yield _document_event(truth, world), truth


def _document_event(document: DocumentTruth, world: World) -> SimEvent:
    data = {
        "document_id": document.document_id,
        "agency": document.agency,
        "fully_electronic": document.fully_electronic,
    }
    return make_event(
        EventType.DOCUMENT_COMPLETED,
        source=world.commune.documents_source,
        event_id=f"document/{document.document_id}",
        time=document.completed_at,
        subject=document.document_id,
        data=data,
    )


def catalog_events(world: World, when: datetime) -> list[SimEvent]:
    """`procedure.published` for every procedure of the catalogue (sent before any dossier)."""
    return [
        make_event(
            EventType.PROCEDURE_PUBLISHED,
            source=world.commune.one_stop_source,
            event_id=f"procedure/{procedure.code}/v1",
            time=when,
            subject=procedure.code,
            data=procedure.published().model_dump(mode="json"),
        )
        for procedure in world.catalog.procedures
    ]


def generate(
    seed: int,
    start: datetime,
    end: datetime,
    config: Config | None = None,
    *,
    cutoff: datetime | None = None,
    world: World | None = None,
    include_catalog: bool = True,
) -> Simulation:
    """Dossiers submitted in [start, end) on the legal calendar (documents completed in it too); events at or
    before `cutoff` (default `end`) in `events`, later ones in `pending`; `truth` as of the cutoff."""
    world = world or default_world(config)
    cutoff = cutoff or end
    events, truth = [], Truth(procedures=list(world.catalog.procedures), published_at=start)
    if include_catalog:
        events.extend(catalog_events(world, start))
    day = start.astimezone(world.legal.timezone).date()
    while day <= end.astimezone(world.legal.timezone).date():
        for number, (when, procedure, channel) in enumerate(day_arrivals(seed, day, world), start=1):
            if start <= when < end:
                code = f"{world.commune.dossier_prefix}-{day:%y%m%d}-{number:04d}"
                dossier_events, dossier_truth = _dossier(seed, code, when, procedure, channel, world)
                events.extend(dossier_events)
                truth.dossiers[code] = dossier_truth
        for event, document in _documents(seed, day, world):
            if start <= event.time < end:
                events.append(event)
                truth.documents.append(document)
        day += timedelta(days=1)
    return _split(seed, start, end, cutoff, events, truth)


def generate_live_slot(seed: int, slot_start: datetime, world: World, not_before: datetime | None = None) -> Simulation:
    """One 10-minute slot of compressed live traffic (office always open): dossiers coded `...-yymmdd-SSSKKK`
    and documents `VB-yymmdd-SSSKKK` (SSS: slot of the day), every event of their lives in `events`."""
    events, truth = [], Truth(procedures=list(world.catalog.procedures), published_at=slot_start)
    local = slot_start.astimezone(world.legal.timezone)
    slot = f"{local:%y%m%d}-{(local.hour * 60 + local.minute) // 10:03d}"
    for number, (when, procedure, channel) in enumerate(slot_arrivals(seed, slot_start, world), start=1):
        if not_before is None or when >= not_before:
            code = f"{world.commune.dossier_prefix}-{slot}{number:03d}"
            dossier_events, dossier_truth = _dossier(seed, code, when, procedure, channel, world)
            events.extend(dossier_events)
            truth.dossiers[code] = dossier_truth
    rng, cfg = random.Random(f"{seed}:live-documents:{int(slot_start.timestamp())}"), world.config
    mean = cfg.documents_per_day * cfg.intensity * (LIVE_SLOT / timedelta(days=1))
    offsets = sorted(int(rng.uniform(0, LIVE_SLOT.total_seconds() - 1)) for _ in range(poisson(rng, mean)))
    for number, offset in enumerate(offsets, start=1):
        when = slot_start + timedelta(seconds=offset)
        document = DocumentTruth(
            f"VB-{slot}{number:03d}",
            rng.choice(world.commune.agencies).code,
            when,
            rng.random() < cfg.fully_electronic_share,
        )
        if not_before is None or when >= not_before:
            events.append(_document_event(document, world))
            truth.documents.append(document)
    return _split(seed, slot_start, slot_start + LIVE_SLOT, FAR_FUTURE, events, truth)


def _split(
    seed: int, start: datetime, end: datetime, cutoff: datetime, events: list[SimEvent], truth: Truth
) -> Simulation:
    events.sort(key=lambda event: event.sort_key)
    past = [event for event in events if event.time <= cutoff]
    future = [event for event in events if event.time > cutoff]
    return Simulation(seed, start, end, cutoff, past, future, truth.as_of(cutoff))
