"""The read side's port: what the API, the snapshots and the metrics read from the projections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.indicators.domain.dossier import DossierState
from services.indicators.domain.indicators import IndicatorResult, Scope
from services.indicators.domain.leaderboard import Performance

Counts = dict[str, tuple[int, int]]  # indicator code -> (numerator, denominator)


@dataclass(frozen=True)
class FieldCount:
    field: str
    procedures: int  # published procedures of the field
    accepted: int  # dossiers of those procedures accepted in the period


@dataclass
class MetricAggregates:
    """Dossier counts keyed by agency and field, as in `DossierCounts`."""

    received: dict[tuple[str, str | None, str], int]
    finished: dict[tuple[str, str | None, str], int]
    open: dict[tuple[str, str | None], int]
    overdue: dict[tuple[str, str | None], int]
    late_without_apology: dict[tuple[str, str | None], int]
    processing_buckets: list[tuple[float, int]]  # (upper bound in seconds, cumulative count)
    processing_count: int
    processing_sum: float
    events_applied: int
    last_event_time: datetime | None
    anomalies: dict[str, int] = field(default_factory=dict)  # type of the latest anomaly -> dossiers


class ProjectionReader(Protocol):
    async def indicator_counts(self, start: datetime, end: datetime, scope: Scope, now: datetime) -> Counts: ...

    async def performances(
        self, by: str, start: datetime, end: datetime, now: datetime, day_seconds: float, scope: Scope
    ) -> list[Performance]: ...

    async def fields(self, start: datetime, end: datetime) -> list[FieldCount]: ...

    async def dossier(self, code: str) -> DossierState | None: ...

    async def open_dossiers(self) -> list[DossierState]: ...

    async def anomalous_dossiers(self, limit: int) -> list[DossierState]: ...

    async def metric_aggregates(self, start: datetime, end: datetime, at: datetime) -> MetricAggregates: ...


class IndicatorsMetricsSink(Protocol):
    def count_applied(self, new_events: int) -> None: ...

    def publish_view(self, indicators: list[IndicatorResult], aggregates: MetricAggregates) -> None: ...
