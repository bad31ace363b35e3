"""Progress display: a rich bar for back-fills, a status line for clocked modes (and log lines when the
output is not a terminal, e.g. under `make up`, which writes the simulator's output to var/logs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from services.simulator.sender import SendStats

LOG_EVERY_SECONDS = 60.0


class Reporter:
    def __init__(self, console: Console | None = None, stats: Callable[[], SendStats] | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.stats = stats or SendStats
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._status: Progress | None = None
        self._status_task: TaskID | None = None
        self._last_log = 0.0
        self._started = time.monotonic()

    def advance(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)

    def begin_history(self, total: int, start: datetime, cutoff: datetime) -> None:
        self.console.print(f"Back-filling {total} events from {start:%Y-%m-%d %H:%M} to {cutoff:%Y-%m-%d %H:%M}")
        self._started = time.monotonic()
        self._progress = Progress(
            TextColumn("[bold]back-fill"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._task = self._progress.add_task("back-fill", total=total)
        self._progress.start()

    def end_history(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        elapsed = max(1e-6, time.monotonic() - self._started)
        stats = self.stats()
        self.console.print(
            f"Back-fill done: {stats.events} events in {elapsed:.1f} s ({stats.events / elapsed:,.0f}/s), "
            f"{stats.accepted} accepted, {stats.duplicates} duplicates, {stats.retries} retries"
        )
        self._progress = self._task = None

    def tick(self, horizon: datetime, queued: int) -> None:
        stats = self.stats()
        text = (
            f"simulated time {horizon:%Y-%m-%d %H:%M:%S %z} | sent {stats.events} | accepted {stats.accepted} | "
            f"duplicates {stats.duplicates} | retries {stats.retries} | planned {queued}"
        )
        if not self.console.is_terminal:
            now = time.monotonic()
            if now - self._last_log >= LOG_EVERY_SECONDS:
                self._last_log = now
                self.console.print(text)
            return
        if self._status is None:
            self._status = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=self.console)
            self._status_task = self._status.add_task(text, total=None)
            self._status.start()
        elif self._status_task is not None:
            self._status.update(self._status_task, description=text)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
