"""The plan file's schema: units, indicator groups, indicators with targets, tasks (docs/tasks.md).

`cross_check` finds what a schema alone cannot (duplicates, unknown references, targets that do not fit the
indicator's kind); each issue carries the location of the offending value so the loader can name its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.tasks.domain.text import MultiLine, UnixNewlines

UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")]
PlanId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
TaskId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
LiveCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")]
Text = Annotated[str, UnixNewlines, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True), MultiLine]
LongText = Annotated[str, UnixNewlines, StringConstraints(max_length=20_000, strip_whitespace=True), MultiLine]
Year = Annotated[int, Field(ge=2000, le=2100)]
Location = tuple[str | int, ...]


class Comparator(StrEnum):
    AT_LEAST = ">="
    ABOVE = ">"
    EQUAL = "="  # a plain figure in the plan: the level to reach
    TOP = "top"  # a rank: met at or better than N
    NONE = "none"  # the plan sets no target


class ValueKind(StrEnum):
    PERCENT = "percent"  # 0..100
    COUNT = "count"  # integer >= 0
    RANK = "rank"  # integer >= 1
    NUMBER = "number"  # any finite number (an index, a score)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    comparator: Comparator
    value: float | None = None
    text: str = Field(default="", max_length=500, description="The target as the plan writes it")

    @model_validator(mode="after")
    def _value_fits_comparator(self) -> Target:
        if self.comparator is Comparator.NONE:
            if self.value is not None:
                raise ValueError("a target with comparator 'none' has no value")
        elif self.value is None:
            raise ValueError(f"comparator {self.comparator.value!r} needs a value")
        elif self.comparator is Comparator.TOP and (self.value < 1 or not float(self.value).is_integer()):
            raise ValueError("a 'top' target is a whole rank of 1 or more")
        return self


class Unit(_Strict):
    code: UnitCode
    name: Text
    short_name: Text | None = Field(default=None, description="How Phụ lục I writes it, when shorter")

    @property
    def label(self) -> str:
        return self.short_name or self.name


class Group(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,8}$")]
    name: Text


class IndicatorSpec(_Strict):
    number: Annotated[int, Field(ge=1, le=999)]
    group: str | None = None
    name: Text
    unit: Text
    kind: ValueKind
    owners: Annotated[list[UnitCode], Field(min_length=1)]
    targets: dict[Year, Target]
    live_code: LiveCode | None = Field(default=None, description="Filled from dvc.indicators.snapshot")
    note: LongText = ""


class TaskSpec(_Strict):
    id: TaskId
    parent: TaskId | None = None
    section: Text
    title: Text
    content: LongText = ""
    owner: UnitCode
    collaborators: list[UnitCode] = []
    deadline: date
    time_frame: LongText = ""
    recurring: bool = False
    legal_basis: list[Text] = []
    rationale: list[Text] = []
    scale_and_products: list[Text] = []
    funding: LongText = ""


class PlanMeta(_Strict):
    id: PlanId
    title: Text
    document: LongText = ""
    issuer: LongText = ""
    commune: Text
    province: LongText = ""
    year: Year
    horizon_year: Year | None = None
    coordinator: UnitCode | None = None
    live_snapshots: bool = Field(default=True, description="Fill live indicators from dvc.indicators.snapshot")


class PlanFile(_Strict):
    schema_version: Literal[1]
    plan: PlanMeta
    units: Annotated[list[Unit], Field(min_length=1)]
    groups: list[Group] = []
    indicators: list[IndicatorSpec]
    tasks: list[TaskSpec] = []

    def unit(self, code: str) -> Unit | None:
        return next((unit for unit in self.units if unit.code == code), None)


@dataclass(frozen=True)
class Issue:
    location: Location
    reason: str


def _duplicates(values: list[str | int]) -> dict[int, str | int]:
    seen: set[str | int] = set()
    found = {}
    for index, value in enumerate(values):
        if value in seen:
            found[index] = value
        seen.add(value)
    return found


def cross_check(plan: PlanFile) -> list[Issue]:
    """Every inconsistency the schema cannot see, in file order."""
    issues: list[Issue] = []
    units = {unit.code for unit in plan.units}
    groups = {group.code for group in plan.groups}
    for index, code in _duplicates([unit.code for unit in plan.units]).items():
        issues.append(Issue(("units", index, "code"), f"unit {code!r} is defined twice"))
    for index, code in _duplicates([group.code for group in plan.groups]).items():
        issues.append(Issue(("groups", index, "code"), f"group {code!r} is defined twice"))
    if plan.plan.coordinator is not None and plan.plan.coordinator not in units:
        issues.append(Issue(("plan", "coordinator"), f"unknown unit {plan.plan.coordinator!r}"))
    issues.extend(_check_indicators(plan, units, groups))
    issues.extend(_check_tasks(plan, units))
    return issues


def _check_indicators(plan: PlanFile, units: set[str], groups: set[str]) -> list[Issue]:
    issues: list[Issue] = []
    numbers = [indicator.number for indicator in plan.indicators]
    for index, number in _duplicates(list(numbers)).items():
        issues.append(Issue(("indicators", index, "number"), f"indicator {number} is defined twice"))
    live = [indicator.live_code for indicator in plan.indicators if indicator.live_code]
    live_index = [index for index, indicator in enumerate(plan.indicators) if indicator.live_code]
    for position, code in _duplicates(list(live)).items():
        issues.append(Issue(("indicators", live_index[position], "live_code"), f"live code {code!r} is used twice"))
    wanted_years = [plan.plan.year] + ([plan.plan.horizon_year] if plan.plan.horizon_year else [])
    for index, indicator in enumerate(plan.indicators):
        where: Location = ("indicators", index)
        if indicator.group is not None and groups and indicator.group not in groups:
            issues.append(Issue((*where, "group"), f"unknown group {indicator.group!r}"))
        for position, owner in enumerate(indicator.owners):
            if owner not in units:
                issues.append(Issue((*where, "owners", position), f"unknown unit {owner!r}"))
        for year in wanted_years:
            if year not in indicator.targets:
                issues.append(
                    Issue((*where, "targets"), f"no target for {year} (use comparator 'none' if the plan sets none)")
                )
        for year, target in indicator.targets.items():
            reason = target_misfit(indicator.kind, target)
            if reason:
                issues.append(Issue((*where, "targets", year, "value"), reason))
    return issues


def target_misfit(kind: ValueKind, target: Target) -> str | None:
    value = target.value
    if value is None or target.comparator is Comparator.TOP:
        return None
    if kind is ValueKind.PERCENT and not 0 <= value <= 100:
        return f"a percent target is between 0 and 100, not {value:g}"
    if kind in (ValueKind.COUNT, ValueKind.RANK) and not float(value).is_integer():
        return f"a {kind.value} target is a whole number, not {value:g}"
    return None


def _check_tasks(plan: PlanFile, units: set[str]) -> list[Issue]:
    issues: list[Issue] = []
    for index, task_id in _duplicates([task.id for task in plan.tasks]).items():
        issues.append(Issue(("tasks", index, "id"), f"task {task_id!r} is defined twice"))
    defined: set[str] = set()
    for index, task in enumerate(plan.tasks):
        where: Location = ("tasks", index)
        if task.parent is not None and task.parent not in defined:
            issues.append(Issue((*where, "parent"), f"parent {task.parent!r} is not a task defined above this one"))
        if task.owner not in units:
            issues.append(Issue((*where, "owner"), f"unknown unit {task.owner!r}"))
        for position, code in enumerate(task.collaborators):
            if code not in units:
                issues.append(Issue((*where, "collaborators", position), f"unknown unit {code!r}"))
        defined.add(task.id)
    return issues
