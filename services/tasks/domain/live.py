"""The fold rule of live indicator values: the snapshots of one batch become one row per plan, indicator and
local day, the latest `taken_at` winning, so snapshots applied in any order converge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.contracts.alerts import IndicatorSnapshotTaken
from services.tasks.domain.evaluation import from_ratio
from services.tasks.domain.plan import IndicatorSpec

LiveKey = tuple[str, int, date]  # plan id, indicator number, local day


@dataclass(frozen=True)
class LiveRow:
    code: str
    value: float | None
    numerator: int
    denominator: int
    snapshot_id: str
    taken_at: datetime
    period_from: datetime
    period_to: datetime


@dataclass(frozen=True)
class LivePlan:
    plan_id: str
    year: int
    indicators: dict[str, IndicatorSpec]  # live code -> spec


def fold_snapshots(
    plans: Iterable[LivePlan], snapshots: Iterable[IndicatorSnapshotTaken], timezone: str
) -> dict[LiveKey, LiveRow]:
    """A snapshot counts for the plans of its period's year, for the indicators they compute from its codes."""
    zone = ZoneInfo(timezone)
    snapshots = list(snapshots)
    folded: dict[LiveKey, LiveRow] = {}
    for plan in plans:
        for snapshot in snapshots:
            if snapshot.period_from.astimezone(zone).year != plan.year:
                continue
            day = snapshot.taken_at.astimezone(zone).date()
            for value in snapshot.indicators:
                spec = plan.indicators.get(value.code)
                if spec is None:
                    continue
                key = (plan.plan_id, spec.number, day)
                current = folded.get(key)
                if current is not None and current.taken_at >= snapshot.taken_at:
                    continue
                folded[key] = LiveRow(
                    value.code,
                    from_ratio(spec.kind, value.value),
                    value.numerator,
                    value.denominator,
                    snapshot.snapshot_id,
                    snapshot.taken_at,
                    snapshot.period_from,
                    snapshot.period_to,
                )
    return folded


def is_newer(row: LiveRow, stored_taken_at: datetime | None) -> bool:
    """A folded row replaces the stored one of its day only when taken later."""
    return stored_taken_at is None or stored_taken_at < row.taken_at
