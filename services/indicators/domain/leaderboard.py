"""Leaderboard of agencies or officers (plan III.7.1: "bảng xếp hạng ... hiệu suất công việc").

Ranking rule: only rows that handled at least `min_volume` dossiers in the period are ranked, by
  1. on-time rate, highest first;
  2. open overdue dossiers now, fewest first;
  3. median working days to finish, shortest first;
  4. dossiers handled, most first; then the code, alphabetically (a stable order).
Rows below the minimum volume are listed after the ranked ones with `rank = None`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Performance:
    key: str
    handled: int
    on_time: int
    working_days: Sequence[float]  # per dossier finished in the period
    open_overdue: int


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    key: str
    handled: int
    on_time_rate: float | None
    median_working_days: float | None
    open_overdue: int
    rank: int | None


def _row(performance: Performance, rank: int | None) -> LeaderboardRow:
    rate = performance.on_time / performance.handled if performance.handled else None
    median = statistics.median(performance.working_days) if performance.working_days else None
    return LeaderboardRow(performance.key, performance.handled, rate, median, performance.open_overdue, rank)


def rank(performances: Iterable[Performance], min_volume: int) -> list[LeaderboardRow]:
    rows = [_row(performance, None) for performance in performances]
    eligible = [row for row in rows if row.handled >= max(1, min_volume)]
    others = sorted((row for row in rows if row.handled < max(1, min_volume)), key=lambda row: (-row.handled, row.key))
    eligible.sort(
        key=lambda row: (
            -(row.on_time_rate or 0.0),
            row.open_overdue,
            row.median_working_days if row.median_working_days is not None else float("inf"),
            -row.handled,
            row.key,
        )
    )
    ranked = [
        LeaderboardRow(row.key, row.handled, row.on_time_rate, row.median_working_days, row.open_overdue, position)
        for position, row in enumerate(eligible, start=1)
    ]
    return ranked + others
