"""Pure rules: indicator status per comparator, reported values per kind, task status, deadline alerts, keys."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.contracts.alerts import TaskAlertKind
from services.runtime.api_keys import KeyRing, hash_key
from services.tasks.domain.access import KeySpec, principal_of
from services.tasks.domain.alerts import OpenTask, due_alerts
from services.tasks.domain.evaluation import IndicatorStatus, evaluate, from_ratio, value_problem
from services.tasks.domain.plan import Comparator, Target, ValueKind
from services.tasks.domain.tasks import Progress, TaskStatus, apply_status, task_status

MET, NOT_MET, NO_DATA, NO_TARGET = (
    IndicatorStatus.MET,
    IndicatorStatus.NOT_MET,
    IndicatorStatus.NO_DATA,
    IndicatorStatus.NO_TARGET,
)


@pytest.mark.parametrize(
    ("comparator", "target", "value", "expected"),
    [
        (">=", 95, 95.0, MET),
        (">=", 95, 94.99, NOT_MET),
        (">=", 95, None, NO_DATA),
        ("=", 100, 100.0, MET),
        ("=", 100, 99.5, NOT_MET),
        ("=", 10, 12, MET),  # "10 sáng kiến": reaching or passing the figure meets it
        (">", 0.8, 0.8, NOT_MET),
        (">", 0.8, 0.81, MET),
        ("top", 20, 20, MET),
        ("top", 20, 21, NOT_MET),
        ("none", None, 35.0, NO_TARGET),
        ("none", None, None, NO_DATA),
    ],
)
def test_status_follows_the_comparator_when_a_value_is_evaluated(
    comparator: str, target: float | None, value: float | None, expected: IndicatorStatus
) -> None:
    assert evaluate(Target(comparator=Comparator(comparator), value=target), value) is expected


def test_live_ratio_meets_a_percent_target_when_rounding_would_miss_it() -> None:
    value = from_ratio(ValueKind.PERCENT, 19 / 20)
    assert value == 95.0
    assert evaluate(Target(comparator=Comparator.AT_LEAST, value=95), value) is MET
    assert from_ratio(ValueKind.NUMBER, 0.731) == 0.731
    assert from_ratio(ValueKind.PERCENT, 2 / 3) == 66.666667  # six decimals, not a whole percent


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        (ValueKind.PERCENT, 120.0, "a percentage is between 0 and 100, got 120"),
        (ValueKind.PERCENT, -1.0, "a percentage is between 0 and 100, got -1"),
        (ValueKind.COUNT, 2.5, "this indicator counts items: a whole number of 0 or more is expected, got 2.5"),
        (ValueKind.RANK, 0.0, "this indicator is a rank: a whole number of 1 or more is expected, got 0"),
        (ValueKind.NUMBER, float("nan"), "the value must be a finite number"),
    ],
)
def test_value_is_refused_with_reason_when_it_does_not_fit_the_kind(kind: ValueKind, value: float, reason: str) -> None:
    assert value_problem(kind, value) == reason


def test_value_is_accepted_when_it_fits_the_kind() -> None:
    assert [value_problem(kind, value) for kind, value in [(ValueKind.PERCENT, 0.0), (ValueKind.RANK, 7.0)]] == [
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("progress", "started", "today", "expected"),
    [
        (0, False, date(2026, 6, 1), TaskStatus.NOT_STARTED),
        (0, True, date(2026, 6, 1), TaskStatus.IN_PROGRESS),
        (40, False, date(2026, 6, 1), TaskStatus.IN_PROGRESS),
        (40, True, date(2026, 12, 31), TaskStatus.IN_PROGRESS),
        (40, True, date(2027, 1, 1), TaskStatus.OVERDUE),
        (100, True, date(2027, 1, 1), TaskStatus.DONE),
    ],
)
def test_task_status_is_derived_when_progress_and_date_are_known(
    progress: int, started: bool, today: date, expected: TaskStatus
) -> None:
    assert task_status(progress, started, date(2026, 12, 31), today) is expected


def test_status_and_progress_are_reconciled_when_a_task_is_patched() -> None:
    current = Progress(30, True)
    assert apply_status(current, TaskStatus.DONE, None) == Progress(100, True)
    assert apply_status(Progress(0, False), TaskStatus.IN_PROGRESS, None) == Progress(0, True)
    assert apply_status(current, None, 60) == Progress(60, True)
    assert apply_status(Progress(100, True), TaskStatus.IN_PROGRESS, 90) == Progress(90, True)


@pytest.mark.parametrize(
    ("status", "percent", "reason"),
    [
        (TaskStatus.OVERDUE, None, "'overdue' follows from the deadline and cannot be set; set in_progress or done"),
        (TaskStatus.DONE, 80, "a done task is 100% complete, not 80%"),
        (TaskStatus.NOT_STARTED, None, "a task not started has 0% progress, not 30%"),
    ],
)
def test_patch_is_refused_with_reason_when_status_and_progress_disagree(
    status: TaskStatus, percent: int | None, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        apply_status(Progress(30, True), status, percent)


def _task(task_id: str, deadline: date, progress: int = 0) -> OpenTask:
    return OpenTask("lam-thao-2026", task_id, f"Nhiệm vụ {task_id}", "VHXH", deadline, progress)


def test_due_soon_and_overdue_alerts_are_raised_when_deadlines_approach_and_pass() -> None:
    now = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)
    tasks = [
        _task("A", date(2026, 12, 31)),
        _task("B", date(2026, 12, 19)),
        _task("C", date(2027, 3, 1)),
        _task("D", date(2026, 12, 1), progress=100),
        _task("E", date(2027, 1, 3)),
    ]
    alerts = due_alerts(tasks, date(2026, 12, 20), 14, now)
    assert [(alert.task_id, alert.kind) for alert in alerts] == [
        ("lam-thao-2026:A", TaskAlertKind.DUE_SOON),
        ("lam-thao-2026:B", TaskAlertKind.OVERDUE),
        ("lam-thao-2026:E", TaskAlertKind.DUE_SOON),
    ]
    assert alerts[0].alert_id == "task-due_soon:lam-thao-2026:A:2026-12-31"
    assert alerts[0].title == "Nhiệm vụ A"


def test_task_due_today_is_due_soon_not_overdue_when_its_deadline_is_today() -> None:
    now = datetime(2026, 12, 31, 1, 0, tzinfo=UTC)

    [alert] = due_alerts([_task("A", date(2026, 12, 31), progress=40)], date(2026, 12, 31), 14, now)

    assert (alert.kind, alert.progress_percent) == (TaskAlertKind.DUE_SOON, 40)


def test_key_authenticates_to_its_unit_when_presented() -> None:
    ring = KeyRing(
        [
            KeySpec(name="vhxh", sha256=hash_key("k1"), unit="VHXH"),
            KeySpec(name="boss", sha256=hash_key("k2"), admin=True, plans=("lam-thao-2026",)),
        ]
    )
    unit_spec, admin_spec = ring.authenticate("k1"), ring.authenticate("k2")
    assert unit_spec is not None
    assert admin_spec is not None
    unit, admin = principal_of(unit_spec), principal_of(admin_spec)
    assert (unit.may_act_for("p", ["VHXH", "TYT"]), unit.may_act_for("p", ["KT"])) == (True, False)
    assert (admin.may_act_for("lam-thao-2026", ["KT"]), admin.may_act_for("other-2027", ["KT"])) == (True, False)
    assert ring.authenticate("nope") is None


def test_key_spec_is_refused_when_it_is_both_unit_and_admin() -> None:
    with pytest.raises(ValueError, match="either bound to one unit or admin"):
        KeySpec(name="x", sha256=hash_key("k"), unit="VHXH", admin=True)
