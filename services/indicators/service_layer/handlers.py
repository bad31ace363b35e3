"""Use cases of the indicators service; every dependency is passed in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.contracts.alerts import IndicatorSnapshotTaken, IndicatorValue
from services.indicators.domain.calendar import WorkingCalendar
from services.indicators.domain.dossier import DossierState, elapsed_working_seconds
from services.indicators.domain.indicators import IndicatorResult, Scope, evaluate_all, year_period
from services.indicators.domain.leaderboard import LeaderboardRow, rank
from services.indicators.service_layer.messages import AppliedBatch, Incoming
from services.indicators.service_layer.projecting import apply_batch
from services.indicators.service_layer.read_model import FieldCount, IndicatorsMetricsSink, ProjectionReader
from services.indicators.service_layer.unit_of_work import ProjectionUnitOfWork

logger = logging.getLogger("dvc_pulse.indicators")
AfterBatch = Callable[[Sequence[str]], Awaitable[None]]


@dataclass(frozen=True)
class DossierView:
    state: DossierState
    elapsed_working_seconds: float | None
    elapsed_working_days: float | None
    overdue: bool


@dataclass(frozen=True)
class Snapshot:
    period_from: datetime
    period_to: datetime
    taken_at: datetime
    indicators: list[IndicatorResult]

    def message(self) -> IndicatorSnapshotTaken:
        values = [
            IndicatorValue(
                code=result.code,
                numerator=result.numerator,
                denominator=result.denominator,
                value=result.value,
                target=result.target,
                comparator=result.comparator,
            )
            for result in self.indicators
        ]
        return IndicatorSnapshotTaken(
            snapshot_id=f"indicators-{self.taken_at:%Y%m%dT%H%M%S.%fZ}",
            period_from=self.period_from,
            period_to=self.period_to,
            taken_at=self.taken_at,
            indicators=values,
        )


class IndicatorsService:
    """Apply batches, read indicators, leaderboards and dossiers, take snapshots."""

    def __init__(
        self,
        *,
        reader: ProjectionReader,
        units: Callable[[], ProjectionUnitOfWork],
        calendar: WorkingCalendar,
        consumer: str,
        timezone: str,
        metrics: IndicatorsMetricsSink | None = None,
        ontime_target: float | None = None,
        sat_target: float | None = None,
        leaderboard_min_volume: int = 5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.reader = reader
        self.calendar = calendar
        self.consumer = consumer
        self.timezone = timezone
        self.metrics = metrics
        self.ontime_target = ontime_target
        self.sat_target = sat_target
        self.leaderboard_min_volume = leaderboard_min_volume
        self.now = now
        self.units = units
        self.after_batch: list[AfterBatch] = []

    async def apply(self, items: Sequence[Incoming]) -> AppliedBatch:
        """ONE transaction: record identities, fold, upsert, store the stream position; then notify."""
        outcome = await apply_batch(self.units(), items, consumer=self.consumer, clock=self.calendar)
        if self.metrics is not None:
            self.metrics.count_applied(outcome.new_events)
        for callback in self.after_batch:
            try:
                await callback(outcome.dossier_codes)
            except Exception:  # a listener never undoes a committed batch
                logger.exception("after-batch callback failed")
        return outcome

    async def indicators(self, start: datetime, end: datetime, scope: Scope = Scope()) -> list[IndicatorResult]:
        counts = await self.reader.indicator_counts(start, end, scope, self.now())
        return evaluate_all(counts, self.ontime_target, self.sat_target)

    async def leaderboard(
        self, by: str, start: datetime, end: datetime, scope: Scope = Scope()
    ) -> list[LeaderboardRow]:
        rows = await self.reader.performances(by, start, end, self.now(), self.calendar.day_seconds, scope)
        return rank(rows, self.leaderboard_min_volume)

    async def fields(self, start: datetime, end: datetime) -> list[FieldCount]:
        return await self.reader.fields(start, end)

    async def dossier(self, code: str) -> DossierView | None:
        state = await self.reader.dossier(code)
        if state is None:
            return None
        now = self.now()
        elapsed = elapsed_working_seconds(state, now, self.calendar)
        days = None if elapsed is None else elapsed / self.calendar.day_seconds
        overdue = state.ended_at is None and state.overdue_from is not None and state.overdue_from < now
        return DossierView(state, elapsed, days, overdue and state.accepted_at is not None)

    async def anomalous_dossiers(self, limit: int) -> list[DossierState]:
        return await self.reader.anomalous_dossiers(limit)

    async def open_dossiers(self) -> list[DossierState]:
        return await self.reader.open_dossiers()

    def current_period(self) -> tuple[datetime, datetime]:
        return year_period(self.now(), self.timezone)

    async def take_snapshot(self) -> Snapshot:
        """Indicators of the current period; also refreshes the metrics from the database."""
        start, end = self.current_period()
        taken_at = self.now()
        results = await self.indicators(start, end)
        if self.metrics is not None:
            aggregates = await self.reader.metric_aggregates(start, end, taken_at)
            self.metrics.publish_view(results, aggregates)
        return Snapshot(start, end, taken_at, results)
