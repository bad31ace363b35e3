"""HTTP API of the indicators service (design §6), built from its dependencies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.contracts.timebounds import parse_local_instant
from services.indicators.domain.indicators import Scope
from services.indicators.service_layer.handlers import DossierView, IndicatorsService
from services.indicators.service_layer.messages import RiskLookup, RiskView
from services.runtime.problems import Problem
from services.runtime.query_text import PRINTABLE


class IndicatorOut(BaseModel):
    code: str
    name: str
    numerator: int
    denominator: int
    value: float | None = Field(description="Percent, 0-100 (numerator / denominator x 100); null: no data")
    target: float | None = Field(description="Percent, 0-100, as the plan writes it; null: no target")
    unit: str = Field(description='"%": the scale of `value` and `target`, the same as the tasks API\'s')
    status: str


def percent(ratio: float | None) -> float | None:
    """The APIs speak percent (as the plan and the tasks service do); metrics keep Prometheus's 0..1 ratios."""
    return None if ratio is None else ratio * 100.0


class FieldOut(BaseModel):
    field: str
    procedures: int
    accepted: int


class LeaderboardRowOut(BaseModel):
    key: str
    handled: int
    on_time_rate: float | None
    median_working_days: float | None
    open_overdue: int
    rank: int | None


class LeaderboardOut(BaseModel):
    by: str
    period_from: datetime
    period_to: datetime
    min_volume: int
    ranking_rule: str
    rows: list[LeaderboardRowOut]


class DueOut(BaseModel):
    original: datetime | None
    extended: datetime | None
    rescheduled: datetime | None


class DossierOut(BaseModel):
    dossier_code: str
    procedure_code: str
    agency: str
    officer: str | None
    status: str
    channel: str | None
    accepted_at: datetime | None
    ended_at: datetime | None
    end_kind: str | None
    due: DueOut
    paused: bool
    paused_working_seconds: float
    supplement_requests: int
    on_time: bool | None
    overdue: bool
    elapsed_working_seconds: float | None
    elapsed_working_days: float | None
    anomalies: int
    last_anomaly: str | None
    risk: RiskView | None


class AnomalyOut(BaseModel):
    dossier_code: str
    status: str
    ended_at: datetime | None
    anomalies: int
    last_anomaly: str | None


RANKING_RULE = (
    "Xếp hạng các đơn vị/cá nhân có từ min_volume hồ sơ trở lên: tỷ lệ đúng hạn cao hơn trước; "
    "bằng nhau thì ít hồ sơ quá hạn đang mở hơn, rồi số ngày làm việc trung vị ngắn hơn, rồi nhiều hồ sơ hơn."
)


_DATES = "ISO date (local midnight) or date-time (local time without an offset), years 2000-2100"


def parse_instant(value: str, field: str, timezone: str) -> datetime:
    """ISO date (local midnight) or datetime (local time when it has no offset) in the years 2000-2100; a 422
    problem naming the parameter otherwise (never an overflow further on)."""
    try:
        return parse_local_instant(value, timezone)
    except ValueError as error:
        reason = str(error)
        raise Problem(422, f"{field}: {reason}", errors=[{"field": field, "reason": reason}]) from None


Period = Callable[[str | None, str | None], tuple[datetime, datetime]]


def build_router(service: IndicatorsService, timezone: str, risk: RiskLookup | None = None) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["indicators"])
    period = period_parser(service, timezone)
    add_indicator_routes(router, service, period)
    add_leaderboard_route(router, service, period)
    add_dossier_routes(router, service, risk)
    return router


def period_parser(service: IndicatorsService, timezone: str) -> Period:
    def period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
        default_start, default_end = service.current_period()
        chosen_start = default_start if start is None else parse_instant(start, "from", timezone)
        chosen_end = default_end if end is None else parse_instant(end, "to", timezone)
        if chosen_end <= chosen_start:
            reason = "must be after 'from'"
            raise Problem(422, f"to: {reason}", errors=[{"field": "to", "reason": reason}])
        return chosen_start, chosen_end

    return period


def add_indicator_routes(router: APIRouter, service: IndicatorsService, period: Period) -> None:
    @router.get(
        "/indicators", response_model=list[IndicatorOut], summary="Indicators I15-I25, ONTIME, SAT, LATE_NO_APOLOGY"
    )
    async def indicators(
        start: str | None = Query(None, alias="from", description=f"Period start (default: 1 January); {_DATES}"),
        end: str | None = Query(
            None, alias="to", description=f"Period end, exclusive (default: next 1 January); {_DATES}"
        ),
        agency: str | None = Query(None, max_length=256, pattern=PRINTABLE, description="Agency code"),
        field: str | None = Query(
            None, max_length=300, pattern=PRINTABLE, description="Field (lĩnh vực), as GET /v1/fields names it"
        ),
        procedure: str | None = Query(None, max_length=256, pattern=PRINTABLE, description="Procedure code"),
    ) -> list[IndicatorOut]:
        chosen_start, chosen_end = period(start, end)
        results = await service.indicators(chosen_start, chosen_end, Scope(agency, field, procedure))
        return [
            IndicatorOut(
                code=result.code,
                name=result.name,
                numerator=result.numerator,
                denominator=result.denominator,
                value=percent(result.value),
                target=percent(result.target),
                unit=result.unit,
                status=result.status.value,
            )
            for result in results
        ]

    @router.get("/fields", response_model=list[FieldOut], summary="Fields (lĩnh vực) with their counts")
    async def fields(
        start: str | None = Query(None, alias="from", description=f"Period start (default: 1 January); {_DATES}"),
        end: str | None = Query(None, alias="to", description=f"Period end, exclusive; {_DATES}"),
    ) -> list[FieldOut]:
        chosen_start, chosen_end = period(start, end)
        rows = await service.fields(chosen_start, chosen_end)
        return [FieldOut(field=row.field, procedures=row.procedures, accepted=row.accepted) for row in rows]


def add_leaderboard_route(router: APIRouter, service: IndicatorsService, period: Period) -> None:
    @router.get("/leaderboard", response_model=LeaderboardOut, summary="Ranking of agencies or officers")
    async def leaderboard(
        by: Literal["agency", "officer"] = Query("agency"),
        start: str | None = Query(None, alias="from", description=f"Period start (default: 1 January); {_DATES}"),
        end: str | None = Query(None, alias="to", description=f"Period end, exclusive; {_DATES}"),
        field: str | None = Query(None, max_length=300, pattern=PRINTABLE, description="Field (lĩnh vực)"),
        procedure: str | None = Query(None, max_length=256, pattern=PRINTABLE, description="Procedure code"),
    ) -> LeaderboardOut:
        chosen_start, chosen_end = period(start, end)
        rows = await service.leaderboard(by, chosen_start, chosen_end, Scope(field=field, procedure=procedure))
        return LeaderboardOut(
            by=by,
            period_from=chosen_start,
            period_to=chosen_end,
            min_volume=service.leaderboard_min_volume,
            ranking_rule=RANKING_RULE,
            rows=[
                LeaderboardRowOut(
                    key=row.key,
                    handled=row.handled,
                    on_time_rate=row.on_time_rate,
                    median_working_days=row.median_working_days,
                    open_overdue=row.open_overdue,
                    rank=row.rank,
                )
                for row in rows
            ],
        )


def add_dossier_routes(router: APIRouter, service: IndicatorsService, risk: RiskLookup | None) -> None:
    @router.get("/dossiers/{code}", response_model=DossierOut, summary="One dossier's state, due dates and risk")
    async def dossier(code: Annotated[str, Path(max_length=256, pattern=PRINTABLE)]) -> DossierOut:
        view = await service.dossier(code)
        if view is None:
            raise Problem(404, f"no dossier with code {code!r}", errors=[{"field": "code", "reason": "unknown"}])
        score = None if risk is None else await risk(view.state, service.now())
        return dossier_out(view, score)

    @router.get(
        "/anomalies",
        response_model=list[AnomalyOut],
        summary="Dossiers that received events after their terminal status (recorded, never counted)",
    )
    async def anomalies(limit: int = Query(100, ge=1, le=1000)) -> list[AnomalyOut]:
        return [
            AnomalyOut(
                dossier_code=state.dossier_code,
                status=state.status.value,
                ended_at=state.ended_at,
                anomalies=state.anomalies,
                last_anomaly=state.last_anomaly,
            )
            for state in await service.anomalous_dossiers(limit)
        ]


def dossier_out(view: DossierView, risk: RiskView | None) -> DossierOut:
    state = view.state
    return DossierOut(
        dossier_code=state.dossier_code,
        procedure_code=state.procedure_code,
        agency=state.agency,
        officer=state.officer,
        status=state.status.value,
        channel=state.channel,
        accepted_at=state.accepted_at,
        ended_at=state.ended_at,
        end_kind=state.end_kind,
        due=DueOut(original=state.due_at, extended=state.extended_due_at, rescheduled=state.rescheduled_due_at),
        paused=state.paused_since is not None,
        paused_working_seconds=state.paused_seconds,
        supplement_requests=state.supplement_requests,
        on_time=state.on_time,
        overdue=view.overdue,
        elapsed_working_seconds=view.elapsed_working_seconds,
        elapsed_working_days=view.elapsed_working_days,
        anomalies=state.anomalies,
        last_anomaly=state.last_anomaly,
        risk=risk,
    )
