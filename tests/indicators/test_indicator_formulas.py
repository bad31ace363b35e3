"""Each indicator's numerator and denominator on a crafted history (design §5), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.indicators.adapters.migrate import upgrade
from services.indicators.adapters.reader import SqlProjectionReader
from services.indicators.adapters.store import SqlProjections
from services.indicators.adapters.tables import TABLES
from services.indicators.adapters.unit_of_work import SqlUnitsOfWork
from services.indicators.domain.calendar import build_calendar
from services.indicators.domain.indicators import IndicatorStatus, Scope, year_period
from services.indicators.service_layer.handlers import IndicatorsService
from services.runtime.db import create_engine, create_session_factory
from tests.factories import VN, dossier_event, envelope, procedure_published
from tests.indicators.store_helpers import incoming

NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[IndicatorsService]:
    engine: AsyncEngine = create_engine(database_url)
    await upgrade(engine)
    yield IndicatorsService(
        reader=SqlProjectionReader(engine, TABLES),
        units=SqlUnitsOfWork(create_session_factory(engine), SqlProjections(TABLES, engine.dialect.name)),
        calendar=build_calendar(),
        consumer="indicators",
        timezone="Asia/Ho_Chi_Minh",
        leaderboard_min_volume=2,
        now=lambda: NOW,
    )
    await engine.dispose()


def lifecycle(code: str, agency: str, officer: str, *, channel: str, electronic: bool, **kwargs: object) -> list[dict]:
    accepted = dossier_event(
        "dossier.accepted",
        code,
        agency=agency,
        time="2026-03-02T08:00:00+07:00",
        channel=channel,
        officer=officer,
        due_at="2026-03-04T17:00:00+07:00",
        digitized=kwargs.get("digitized", True),
        reused_data=kwargs.get("reused", False),
        procedure_code=str(kwargs.get("procedure", "1.001193")),
    )
    events = [accepted]
    if kwargs.get("paid_online") is not None:
        events.append(
            dossier_event(
                "dossier.paid", code, agency=agency, time="2026-03-02T09:00:00+07:00", paid_online=kwargs["paid_online"]
            )
        )
    if kwargs.get("processed_at"):
        events.append(
            dossier_event(
                "dossier.processed",
                code,
                agency=agency,
                time=str(kwargs["processed_at"]),
                officer=officer,
                result_electronic=electronic,
                result_digitized=True,
            )
        )
        events.append(
            dossier_event(
                "dossier.returned",
                code,
                agency=agency,
                time=str(kwargs["processed_at"]),
                delivery=str(kwargs.get("delivery", "electronic")),
            )
        )
    return events


async def test_every_indicator_counts_its_rows_when_the_history_mixes_cases(service: IndicatorsService) -> None:
    raws = [
        procedure_published("1.001193", level="full", boundary_free=True, business_related=True),
        procedure_published(
            "2.000001",
            field="Đất đai",
            level="none",
            eligible_full_online=True,
            boundary_free=False,
            business_related=True,
        ),
        *lifecycle(
            "A1",
            "UBND",
            "CB-1",
            channel="online",
            electronic=True,
            reused=True,
            paid_online=True,
            processed_at="2026-03-03T10:00:00+07:00",
        ),
        *lifecycle(
            "A2",
            "UBND",
            "CB-1",
            channel="direct",
            electronic=False,
            paid_online=False,
            digitized=False,
            processed_at="2026-03-06T10:00:00+07:00",
            delivery="counter",
        ),
        *lifecycle(
            "B1",
            "PHONG-KT",
            "CB-2",
            channel="postal",
            electronic=True,
            procedure="2.000001",
            processed_at="2026-03-04T10:00:00+07:00",
            delivery="postal",
        ),
        *lifecycle("B2", "PHONG-KT", "CB-2", channel="online", electronic=True, procedure="2.000001"),
        envelope(
            "document.completed",
            {"document_id": "VB-1", "agency": "UBND", "fully_electronic": True},
            time="2026-03-05T10:00:00+07:00",
        ),
        envelope(
            "document.completed",
            {"document_id": "VB-2", "agency": "UBND", "fully_electronic": False},
            time="2026-03-05T10:00:00+07:00",
        ),
        # A2 will be late and got its apology slip before the due time; B2 is late without one.
        dossier_event(
            "dossier.rescheduled",
            "A2",
            agency="UBND",
            time="2026-03-04T09:00:00+07:00",
            officer="CB-1",
            new_due_at="2026-03-06T17:00:00+07:00",
            reason="Chờ xác minh",
        ),
        envelope("feedback.submitted", {"dossier_code": "A1", "satisfied": True}, time="2026-03-04T10:00:00+07:00"),
        envelope("feedback.submitted", {"dossier_code": "A2", "satisfied": False}, time="2026-03-07T10:00:00+07:00"),
        envelope("feedback.submitted", {"dossier_code": "B1", "satisfied": True}, time="2026-03-05T10:00:00+07:00"),
    ]
    await service.apply([incoming(raw) for raw in raws])
    start, end = datetime(2026, 1, 1, tzinfo=VN), datetime(2027, 1, 1, tzinfo=VN)
    rows = {row.code: row for row in await service.indicators(start, end)}
    counts = {code: (row.numerator, row.denominator) for code, row in rows.items()}
    assert counts == {
        "I15": (1, 2),  # boundary-free procedures / published
        "I16": (1, 2),  # business-related at level full or partial / business-related
        "I17": (2, 3),  # returned contactless: A1 online+electronic, B1 postal+postal; A2 counter
        "I18": (2, 3),  # returned with dossier and result digitised: A2 was not digitised
        "I19": (1, 2),  # eligible for full online and at level full / eligible
        "I20": (2, 4),  # accepted online / accepted
        "I21": (1, 2),  # online among dossiers of procedures at level full or partial (A1, A2)
        "I22": (2, 3),  # processed with an electronic result / processed
        "I23": (1, 4),  # reused digitised data / accepted
        "I24": (1, 2),  # paid online / paid
        "I25": (1, 2),  # fully electronic documents / completed
        "ONTIME": (2, 4),  # A1, B1 on time; A2 late; B2 open and overdue on 20 March
        "SAT": (2, 3),  # satisfied / answered: A1 and B1 satisfied, A2 not
        "LATE_NO_APOLOGY": (1, 2),  # late: A2 (apology before its due time) and B2 (none)
    }
    assert rows["I20"].status is IndicatorStatus.NOT_MET
    assert rows["ONTIME"].status is IndicatorStatus.NO_TARGET
    assert rows["SAT"].status is IndicatorStatus.NO_TARGET
    assert (rows["LATE_NO_APOLOGY"].target, rows["LATE_NO_APOLOGY"].status) == (0.0, IndicatorStatus.NOT_MET)
    by_agency = {
        row.code: (row.numerator, row.denominator) for row in await service.indicators(start, end, Scope(agency="UBND"))
    }
    assert (by_agency["I20"], by_agency["I25"], by_agency["SAT"]) == ((1, 2), (1, 2), (1, 2))
    land = {
        row.code: (row.numerator, row.denominator)
        for row in await service.indicators(start, end, Scope(field="Đất đai"))
    }
    assert (land["I15"], land["I16"], land["I20"], land["SAT"], land["LATE_NO_APOLOGY"]) == (
        (0, 1),
        (0, 1),
        (1, 2),
        (1, 1),
        (1, 1),
    )
    one_procedure = await service.indicators(start, end, Scope(procedure="1.001193"))
    assert {row.code: row.denominator for row in one_procedure}["I20"] == 2
    fields = await service.fields(start, end)
    assert [(row.field, row.procedures, row.accepted) for row in fields] == [("Hộ tịch", 1, 2), ("Đất đai", 1, 2)]
    empty = await service.indicators(datetime(2025, 1, 1, tzinfo=VN), datetime(2025, 2, 1, tzinfo=VN))
    assert all(row.value is None and row.status is IndicatorStatus.NO_DATA for row in empty if row.code != "I15")


async def test_leaderboard_ranks_only_rows_with_enough_volume_when_some_handled_few(service: IndicatorsService) -> None:
    raws = [
        *lifecycle("A1", "UBND", "CB-1", channel="online", electronic=True, processed_at="2026-03-03T10:00:00+07:00"),
        *lifecycle("A2", "UBND", "CB-1", channel="online", electronic=True, processed_at="2026-03-06T10:00:00+07:00"),
        *lifecycle(
            "B1", "PHONG-KT", "CB-2", channel="online", electronic=True, processed_at="2026-03-02T10:00:00+07:00"
        ),
        *lifecycle(
            "B2", "PHONG-KT", "CB-2", channel="online", electronic=True, processed_at="2026-03-03T10:00:00+07:00"
        ),
        *lifecycle(
            "C1", "PHONG-TP", "CB-3", channel="online", electronic=True, processed_at="2026-03-02T10:00:00+07:00"
        ),
    ]
    await service.apply([incoming(raw) for raw in raws])
    start, end = datetime(2026, 1, 1, tzinfo=VN), datetime(2027, 1, 1, tzinfo=VN)
    rows = await service.leaderboard("agency", start, end)
    assert [(row.key, row.rank, row.handled, row.on_time_rate) for row in rows] == [
        ("PHONG-KT", 1, 2, 1.0),
        ("UBND", 2, 2, 0.5),
        ("PHONG-TP", None, 1, 1.0),
    ]
    assert rows[0].median_working_days == pytest.approx((2 + 9.5) / 2 / 7.5)  # 2 h and 9.5 h of working time
    officers = await service.leaderboard("officer", start, end)
    assert [row.key for row in officers] == ["CB-2", "CB-1", "CB-3"]


def test_default_period_is_the_local_calendar_year_when_utc_is_still_in_the_previous_year() -> None:
    start, end = year_period(datetime(2026, 12, 31, 18, 0, tzinfo=UTC), "Asia/Ho_Chi_Minh")
    assert (start.isoformat(), end.isoformat()) == ("2027-01-01T00:00:00+07:00", "2028-01-01T00:00:00+07:00")


async def test_events_after_the_end_change_no_count_when_a_dossier_was_refused_or_withdrawn(
    service: IndicatorsService,
) -> None:
    refused = [
        dossier_event("dossier.submitted", "R1", time="2026-03-02T08:00:00+07:00"),
        dossier_event("dossier.rejected", "R1", time="2026-03-02T09:00:00+07:00", officer="CB-1", reason="Thiếu hồ sơ"),
        dossier_event("dossier.processed", "R1", time="2026-03-03T09:00:00+07:00", officer="CB-1"),
        dossier_event("dossier.returned", "R1", time="2026-03-04T09:00:00+07:00", delivery="electronic"),
    ]
    withdrawn = [
        *lifecycle("W1", "UBND", "CB-1", channel="online", electronic=True),
        dossier_event("dossier.withdrawn", "W1", time="2026-03-02T10:00:00+07:00", reason="Công dân rút hồ sơ"),
        dossier_event("dossier.paid", "W1", time="2026-03-02T11:00:00+07:00", paid_online=True),
        dossier_event("dossier.returned", "W1", time="2026-03-03T09:00:00+07:00", delivery="electronic"),
    ]
    # Arrival order is not time order: the late events come first for W1.
    await service.apply([incoming(raw) for raw in [*refused, *reversed(withdrawn)]])
    start, end = datetime(2026, 1, 1, tzinfo=VN), datetime(2027, 1, 1, tzinfo=VN)
    counts = {row.code: (row.numerator, row.denominator) for row in await service.indicators(start, end)}
    assert counts["I17"] == (0, 0)
    assert counts["I18"] == (0, 0)
    assert counts["I22"] == (0, 0)
    assert counts["I24"] == (0, 0)
    listed = {state.dossier_code: state for state in await service.anomalous_dossiers(10)}
    refused_state, withdrawn_state = listed["R1"], listed["W1"]
    assert (refused_state.anomalies, refused_state.last_anomaly, refused_state.returned_at) == (
        2,
        "dossier.returned",
        None,
    )
    assert (withdrawn_state.anomalies, withdrawn_state.last_anomaly, withdrawn_state.paid_at) == (
        2,
        "dossier.returned",
        None,
    )
    assert withdrawn_state.status.value == "withdrawn"


async def test_closed_quarter_keeps_its_values_when_a_procedure_is_republished_later(
    service: IndicatorsService,
) -> None:
    first = procedure_published("9.000001", level="none", business_related=True, eligible_full_online=True)
    first["time"] = "2026-01-05T08:00:00+07:00"
    republished = procedure_published("9.000001", level="full", business_related=True, eligible_full_online=True)
    republished["time"] = "2026-04-10T08:00:00+07:00"
    in_q1 = dossier_event(
        "dossier.accepted",
        "Q1-1",
        time="2026-02-10T08:00:00+07:00",
        channel="online",
        due_at="2026-02-12T17:00:00+07:00",
        procedure_code="9.000001",
    )
    in_q2 = dossier_event(
        "dossier.accepted",
        "Q2-1",
        time="2026-04-20T08:00:00+07:00",
        channel="online",
        due_at="2026-04-22T17:00:00+07:00",
        procedure_code="9.000001",
    )
    q1 = datetime(2026, 1, 1, tzinfo=VN), datetime(2026, 4, 1, tzinfo=VN)
    q2 = datetime(2026, 4, 1, tzinfo=VN), datetime(2026, 7, 1, tzinfo=VN)

    async def counts(period: tuple[datetime, datetime]) -> dict[str, tuple[int, int]]:
        rows = await service.indicators(*period, Scope(procedure="9.000001"))
        return {row.code: (row.numerator, row.denominator) for row in rows if row.code in ("I16", "I19", "I21")}

    await service.apply([incoming(first), incoming(in_q1)])
    before = await counts(q1)
    await service.apply([incoming(republished), incoming(in_q2)])  # the catalogue changes in April
    assert before == await counts(q1) == {"I16": (0, 1), "I19": (0, 1), "I21": (0, 0)}
    assert await counts(q2) == {"I16": (1, 1), "I19": (1, 1), "I21": (1, 1)}
