"""Clock rules (design §4) hold in the generated traffic, checked from the events themselves."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import phonenumbers
import pytest

from services.contracts.catalog import TimeLimit
from services.simulator.calendar import LegalCalendar
from services.simulator.catalog import load_catalog
from services.simulator.generator import Simulation
from services.simulator.lifecycle import due_at_for
from services.simulator.people import PhoneKind
from services.simulator.truth import on_time

START_TYPES = {"dossier.submitted", "dossier.accepted", "dossier.rejected"}
TERMINAL = {"dossier.returned", "dossier.rejected", "dossier.withdrawn", "dossier.stopped"}


def _short(document: dict[str, Any]) -> str:
    return str(document["type"]).removeprefix("vn.gov.dvc.")


def _by_dossier(simulation: Simulation) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in [*simulation.events, *simulation.pending]:
        code = event.document["data"].get("dossier_code")
        if code is not None:
            grouped[code].append(event.document)
    return grouped


def _time(document: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(document["time"])


def test_no_event_before_acceptance_when_dossier_accepted(quarter: Simulation) -> None:
    early = []
    for code, documents in _by_dossier(quarter).items():
        accepted = [_time(d) for d in documents if _short(d) == "dossier.accepted"]
        for document in documents:
            if accepted and _short(document) not in START_TYPES and _time(document) <= accepted[0]:
                early.append((code, _short(document)))
            if not accepted and _short(document) not in {"dossier.submitted", "dossier.rejected"}:
                early.append((code, _short(document)))
    assert early == []


def test_pauses_paired_when_dossier_ended(quarter: Simulation) -> None:
    unpaired = []
    for code, documents in _by_dossier(quarter).items():
        kinds = [_short(d) for d in documents]
        if "dossier.processed" not in kinds:
            continue
        if kinds.count("dossier.supplement_requested") != kinds.count("dossier.supplement_received"):
            unpaired.append((code, "supplement"))
        if kinds.count("dossier.payment_requested") != kinds.count("dossier.paid"):
            unpaired.append((code, "payment"))
    assert unpaired == []


def test_one_terminal_event_at_most_when_lifecycle_planned(quarter: Simulation) -> None:
    wrong = {code for code, docs in _by_dossier(quarter).items() if sum(_short(d) in TERMINAL for d in docs) > 1}
    assert wrong == set()


def test_staff_actions_in_working_hours_when_legal_office(quarter: Simulation, legal: LegalCalendar) -> None:
    outside = []
    for event in [*quarter.events, *quarter.pending]:
        document = event.document
        kind = _short(document)
        submitted_online = kind == "dossier.submitted" and document["data"]["channel"] == "online"
        if kind == "procedure.published" or submitted_online:
            continue
        if not legal.is_working_instant(event.time):
            outside.append((document["id"], document["time"]))
    assert outside == []


def test_nothing_handled_during_tet_when_holiday(quarter: Simulation) -> None:
    tet = {date(2026, 2, day) for day in range(16, 21)}
    handled = [
        event.document["id"]
        for event in quarter.events
        if event.time.date() in tet and _short(event.document) not in {"dossier.submitted"}
    ]
    submitted = [e for e in quarter.events if e.time.date() in tet and _short(e.document) == "dossier.submitted"]
    assert handled == []
    assert {e.document["data"]["channel"] for e in submitted} <= {"online"}


def test_due_at_is_the_time_limit_in_working_time_when_accepted(quarter: Simulation, legal: LegalCalendar) -> None:
    """Checked backwards, without the generator's function: the working time from acceptance to the due date is
    the limit (calendar days for `days`)."""
    limits = {procedure.code: procedure.time_limit for procedure in load_catalog().procedures}
    mismatched = []
    for event in quarter.events:
        document = event.document
        if _short(document) != "dossier.accepted":
            continue
        limit = limits[document["data"]["procedure_code"]]
        due = datetime.fromisoformat(document["data"]["due_at"])
        if limit.unit == "days":
            matches = due - event.time == timedelta(days=limit.value)
        else:
            per_unit = 7.5 * 3600 if limit.unit == "working_days" else 3600
            matches = legal.working_seconds_between(event.time, due) == limit.value * per_unit
        if not matches:
            mismatched.append(document["id"])
    assert mismatched == []


@pytest.mark.parametrize(
    ("accepted", "limit", "expected"),
    [
        # Working hours 07:30-11:30 and 13:30-17:00 (7.5 h a day), Monday to Friday.
        ("2026-03-02T10:00", (1, "working_days"), "2026-03-03T10:00"),  # Monday -> Tuesday
        ("2026-03-06T15:00", (2, "working_days"), "2026-03-10T15:00"),  # Friday, over the weekend -> Tuesday
        ("2026-03-02T10:00", (4, "working_hours"), "2026-03-02T16:00"),  # 1.5 h before lunch, 2.5 h after
        ("2026-03-02T16:00", (4, "working_hours"), "2026-03-03T10:30"),  # 1 h on Monday, 3 h on Tuesday
        ("2025-12-31T10:00", (1, "working_days"), "2026-01-05T10:00"),  # 1/1 holiday, 2/1 announced off
        ("2026-01-09T10:00", (1, "working_days"), "2026-01-10T10:00"),  # Saturday 10/1 announced worked
    ],
)
def test_due_at_matches_hand_computed_dates_when_the_working_calendar_applies(
    legal: LegalCalendar, accepted: str, limit: tuple[int, str], expected: str
) -> None:
    start = datetime.fromisoformat(accepted).replace(tzinfo=legal.timezone)

    due = due_at_for(legal, start, TimeLimit(value=limit[0], unit=limit[1]))

    assert due == datetime.fromisoformat(expected).replace(tzinfo=legal.timezone)


def test_truth_judgement_matches_event_replay_when_dossier_processed(quarter: Simulation, legal: LegalCalendar) -> None:
    """On-time as recomputed from the events alone (pauses extend the due date; a 2nd supplement is late)."""
    differing = []
    for code, documents in _by_dossier(quarter).items():
        kinds = [_short(d) for d in documents]
        if "dossier.processed" not in kinds:
            continue
        accepted = next(d for d in documents if _short(d) == "dossier.accepted")
        paused, opened = 0.0, None
        for document in documents:
            if _short(document) in {"dossier.supplement_requested", "dossier.payment_requested"}:
                opened = _time(document)
            elif _short(document) in {"dossier.supplement_received", "dossier.paid"} and opened is not None:
                paused += legal.working_seconds_between(opened, _time(document))
                opened = None
        extended = legal.add_working_time(datetime.fromisoformat(accepted["data"]["due_at"]), paused)
        processed = next(_time(d) for d in documents if _short(d) == "dossier.processed")
        replayed = processed <= extended and kinds.count("dossier.supplement_requested") < 2
        if replayed != on_time(quarter.truth.dossiers[code], legal):
            differing.append(code)
    assert differing == []


def test_late_dossiers_near_configured_share_when_quarter_simulated(quarter: Simulation) -> None:
    processed = [d for d in quarter.truth.dossiers.values() if d.processed_at is not None]
    late = [d for d in processed if d.planned_late]
    assert 0.05 < len(late) / len(processed) < 0.12


def test_phone_numbers_realistic_when_applicants_generated(quarter: Simulation) -> None:
    kinds = {d.dossier_code: d.phone_kind for d in quarter.truth.dossiers.values()}
    verdicts: dict[PhoneKind, set[bool]] = defaultdict(set)
    consents = set()
    for event in quarter.events:
        if _short(event.document) != "dossier.submitted":
            continue
        data = event.document["data"]
        phone = data["applicant"]["phone"]
        consents.add(data["applicant"]["sms_consent"])
        kind = kinds[data["dossier_code"]]
        if phone is None:
            verdicts[kind].add(False)
            continue
        number = phonenumbers.parse(phone, "VN")
        mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        verdicts[kind].add(phonenumbers.is_valid_number(number) and mobile)
    assert verdicts[PhoneKind.MOBILE] == {True}
    assert verdicts[PhoneKind.MOBILE_INTERNATIONAL] == {True}
    for kind in (PhoneKind.LEGACY, PhoneKind.LANDLINE, PhoneKind.MALFORMED, PhoneKind.MISSING):
        assert verdicts[kind] == {False}, kind
    assert consents == {True, False}


def test_every_due_date_lies_after_its_event_when_a_late_dossier_is_rescheduled(quarter: Simulation) -> None:
    """Regression: a reschedule of a dossier already past its due date promised a date before the slip itself,
    which the ingest refuses (time rules)."""
    promises = [
        (_time(event.document), datetime.fromisoformat(event.document["data"][name]))
        for event in [*quarter.events, *quarter.pending]
        for name in ("due_at", "new_due_at")
        if name in event.document["data"]
    ]

    assert len(promises) > 1000
    assert [(time, promised) for time, promised in promises if promised < time] == []
