"""Task status and the rules of a task update (status is derived: progress, start flag, deadline, today)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class TaskStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    OVERDUE = "overdue"


SETTABLE = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.DONE)


def task_status(progress: int, started: bool, deadline: date, today: date) -> TaskStatus:
    """Done at 100%; otherwise overdue after the deadline day; in progress once started or reported on."""
    if progress >= 100:
        return TaskStatus.DONE
    if today > deadline:
        return TaskStatus.OVERDUE
    if started or progress > 0:
        return TaskStatus.IN_PROGRESS
    return TaskStatus.NOT_STARTED


@dataclass(frozen=True)
class Progress:
    percent: int
    started: bool


def apply_status(current: Progress, status: TaskStatus | None, percent: int | None) -> Progress:
    """The progress after a PATCH; raises ValueError with the reason when the two fields disagree."""
    if status is TaskStatus.OVERDUE:
        raise ValueError("'overdue' follows from the deadline and cannot be set; set in_progress or done")
    new_percent = current.percent if percent is None else percent
    if status is None:
        return Progress(new_percent, current.started or new_percent > 0)
    if status is TaskStatus.DONE:
        if percent is not None and percent != 100:
            raise ValueError(f"a done task is 100% complete, not {percent}%")
        return Progress(100, True)
    if status is TaskStatus.IN_PROGRESS:
        if new_percent >= 100:
            raise ValueError("progress is 100%: give progress_percent below 100 to reopen the task")
        return Progress(new_percent, True)
    if new_percent != 0:
        raise ValueError(f"a task not started has 0% progress, not {new_percent}%")
    return Progress(0, False)
