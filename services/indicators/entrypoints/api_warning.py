"""`GET /v1/alerts`: the early warnings raised, most recent first, with Vietnamese labels."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contracts.alerts import DossierAlertKind
from services.indicators.adapters import warning_store as store
from services.indicators.adapters.tables import Tables
from services.indicators.domain.indicators import Scope
from services.indicators.domain.risk import Basis
from services.indicators.domain.warning import KIND_LABELS
from services.indicators.entrypoints.api import parse_instant
from services.runtime.query_text import PRINTABLE

BASIS_LABELS = {
    Basis.PROCEDURE.value: "cùng thủ tục",
    Basis.AGENCY.value: "cùng cơ quan xử lý",
    Basis.ALL.value: "toàn bộ hồ sơ",
}


class RiskOut(BaseModel):
    probability: float
    basis: str
    basis_label: str
    sample_size: int


class AlertOut(BaseModel):
    alert_id: str
    kind: DossierAlertKind
    kind_label: str
    dossier_code: str
    procedure_code: str
    agency: str
    officer: str | None
    due_at: datetime
    risk: RiskOut | None
    raised_at: datetime
    published: bool


class AlertsOut(BaseModel):
    count: int
    items: list[AlertOut]


def risk_out(probability: float | None, basis: str | None, sample_size: int | None) -> RiskOut | None:
    if probability is None or basis is None:
        return None
    return RiskOut(
        probability=probability,
        basis=basis,
        basis_label=BASIS_LABELS.get(basis, basis),
        sample_size=sample_size or 0,
    )


def build_alerts_router(engine: AsyncEngine, tables: Tables, timezone: str) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["early warning"])

    @router.get("/alerts", response_model=AlertsOut, summary="Dossier alerts: at risk of being late, overdue")
    async def list_alerts(
        kind: DossierAlertKind | None = Query(None, description="at_risk (có nguy cơ quá hạn) or overdue (quá hạn)"),
        agency: str | None = Query(None, max_length=256, pattern=PRINTABLE, description="Handling agency code"),
        field: str | None = Query(
            None, max_length=300, pattern=PRINTABLE, description="Field (lĩnh vực) of the dossier's procedure"
        ),
        procedure: str | None = Query(None, max_length=256, pattern=PRINTABLE, description="Procedure code"),
        since: str | None = Query(
            None, description="Raised at or after (ISO date or date-time, local time; years 2000-2100)"
        ),
        limit: int = Query(200, ge=1, le=5000),
    ) -> AlertsOut:
        start = None if since is None else parse_instant(since, "since", timezone)
        async with engine.connect() as connection:
            rows = await store.alerts(
                connection,
                tables,
                kind=None if kind is None else kind.value,
                scope=Scope(agency, field, procedure),
                since=start,
                limit=limit,
            )
        items = [
            AlertOut(
                alert_id=row.alert_id,
                kind=DossierAlertKind(row.kind),
                kind_label=KIND_LABELS[DossierAlertKind(row.kind)],
                dossier_code=row.dossier_code,
                procedure_code=row.procedure_code,
                agency=row.agency,
                officer=row.officer,
                due_at=row.due_at,
                risk=risk_out(row.risk, row.basis, row.sample_size),
                raised_at=row.raised_at,
                published=row.published_at is not None,
            )
            for row in rows
        ]
        return AlertsOut(count=len(items), items=items)

    return router
