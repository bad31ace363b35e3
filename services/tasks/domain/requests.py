"""What the API accepts: reports on indicators and tasks, task changes and new tasks (strict types: a string
where a number belongs is a 422, not a silent conversion)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.contracts.timebounds import BoundedDate
from services.tasks.domain.plan import LongText, PlanId, TaskId, Text, UnitCode
from services.tasks.domain.tasks import TaskStatus
from services.tasks.domain.text import MultiLine, SingleLine, UnixNewlines

Percent = Annotated[int, Field(ge=0, le=100, strict=True, description="Whole percent, 0-100")]
Period = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-H[12])?$"),
    Field(description="Reporting period: 2026, 2026-H1, 2026-Q2 or 2026-05", examples=["2026-Q2"]),
]
Reporter = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), SingleLine]
EvidenceText = Annotated[
    str, UnixNewlines, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True), MultiLine
]
Title = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True), SingleLine]
"""One line: a title or a section; free text (summary, content, evidence, note, reason) may hold line breaks."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndicatorReportIn(_Input):
    value: Annotated[float, Field(strict=True, description="In the indicator's unit (percent 0-100, count, rank)")]
    period: Period | None = None
    evidence: EvidenceText | None = Field(default=None, description="What backs the value (text)")
    evidence_url: AnyHttpUrl | None = Field(default=None, description="Link to the evidence")
    reporter: Reporter = Field(description="Who reports (name or position) for the unit")
    note: LongText = ""

    @model_validator(mode="after")
    def _has_evidence(self) -> IndicatorReportIn:
        if self.evidence is None and self.evidence_url is None:
            raise ValueError("give the evidence as text (evidence) or a link (evidence_url)")
        return self


class TaskReportIn(_Input):
    progress_percent: Percent
    summary: Text = Field(description="What was done in the period")
    period: Period | None = None
    evidence: EvidenceText | None = None
    evidence_url: AnyHttpUrl | None = None
    reporter: Reporter


class TaskPatch(_Input):
    status: TaskStatus | None = Field(default=None, description="not_started, in_progress or done")
    progress_percent: Percent | None = None
    title: Title | None = Field(default=None, description="Admin only")
    owner: UnitCode | None = Field(default=None, description="Admin only")
    collaborators: list[UnitCode] | None = Field(default=None, description="Admin only")
    deadline: BoundedDate | None = Field(default=None, description="Admin only; a date in 2000-2100")
    reason: LongText = Field(default="", description="Why, kept in the audit trail")

    @model_validator(mode="after")
    def _changes_something(self) -> TaskPatch:
        if not self.model_fields_set - {"reason"}:
            raise ValueError(
                "nothing to change: give status, progress_percent, title, owner, collaborators or deadline"
            )
        return self

    def admin_fields(self) -> list[str]:
        return sorted(self.model_fields_set & {"title", "owner", "collaborators", "deadline"})


class TaskCreate(_Input):
    plan_id: PlanId | None = Field(default=None, description="Default: the default plan")
    id: TaskId
    parent: TaskId | None = None
    section: Title = "Nhiệm vụ bổ sung"
    title: Title
    content: LongText = ""
    owner: UnitCode
    collaborators: list[UnitCode] = []
    deadline: BoundedDate
    time_frame: LongText = ""
