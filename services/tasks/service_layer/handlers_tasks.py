"""Use cases on tasks: list, read, create, change, report progress (each change audited, in one unit of work)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.tasks.domain.access import Principal
from services.tasks.domain.errors import Conflict, Forbidden, Invalid, NotFound
from services.tasks.domain.requests import TaskCreate, TaskPatch, TaskReportIn
from services.tasks.domain.tasks import Progress, TaskStatus, apply_status
from services.tasks.domain.views import PlanView, TaskReportView, TaskView
from services.tasks.service_layer.handlers_core import ServiceCore
from services.tasks.service_layer.messages import NewAuditEntry, NewTask, NewTaskReport, TaskChange
from services.tasks.service_layer.unit_of_work import UnitOfWork


class TaskHandlers:
    def __init__(self, service: ServiceCore) -> None:
        self.service = service

    async def list_tasks(
        self, plan_id: str | None, *, owner: str | None = None, status: TaskStatus | None = None
    ) -> tuple[PlanView, list[TaskView]]:
        async with self.service.uow() as uow:
            plan = await self.service.plan_in(uow, plan_id)
            views = await uow.tasks.views(plan.plan_id, self.service.today(), owner=owner)
        return plan, [view for view in views if status is None or view.status is status]

    async def get(self, plan_id: str | None, task_id: str) -> tuple[PlanView, TaskView, list[TaskReportView]]:
        async with self.service.uow() as uow:
            plan = await self.service.plan_in(uow, plan_id)
            view = await self._task(uow, plan, task_id)
            return plan, view, await uow.tasks.reports(plan.plan_id, task_id)

    async def create(self, body: TaskCreate, actor: Principal) -> TaskView:
        now = self.service.now()
        async with self.service.uow() as uow:
            plan = await self.service.plan_in(uow, body.plan_id)
            if not actor.may_act_for(plan.plan_id, [body.owner]):
                raise Forbidden(f"this key may create tasks only for its own unit ({actor.unit}), not {body.owner}")
            _check_units(plan, body.owner, body.collaborators)
            if await uow.tasks.get(plan.plan_id, body.id, self.service.today()) is not None:
                raise Conflict(f"task {body.id!r} already exists in plan {plan.plan_id!r}", field="id")
            if body.parent is not None:
                await self._task(uow, plan, body.parent, field="parent", status=422)
            await uow.tasks.add(
                NewTask(
                    plan_id=plan.plan_id,
                    task_id=body.id,
                    position=await uow.tasks.next_position(plan.plan_id),
                    parent_id=body.parent,
                    section=body.section,
                    title=body.title,
                    owner=body.owner,
                    collaborators=tuple(body.collaborators),
                    deadline=body.deadline,
                    content=body.content,
                    time_frame=body.time_frame,
                    updated_at=now,
                )
            )
            view = await self._task(uow, plan, body.id)
            await self._audit(uow, actor, "task.create", view, None, view.state())
            await uow.commit()
        await self.service.refresh_metrics([plan.plan_id])
        return view

    async def patch(self, plan_id: str | None, task_id: str, patch: TaskPatch, actor: Principal) -> TaskView:
        now = self.service.now()
        async with self.service.uow() as uow:
            plan = await self.service.plan_in(uow, plan_id)
            before = await self._task(uow, plan, task_id)
            self._check_may_change(plan, before, actor)
            admin_fields = patch.admin_fields()
            if admin_fields and not actor.admin:
                raise Forbidden(f"only an admin key may change {', '.join(admin_fields)}")
            _check_units(plan, patch.owner or before.owner, patch.collaborators or [])
            try:
                progress = apply_status(
                    Progress(before.progress_percent, before.started), patch.status, patch.progress_percent
                )
            except ValueError as error:
                raise Invalid(str(error), field="status") from None
            await uow.tasks.update(plan.plan_id, task_id, _change_of(patch, progress, now))
            after = await self._task(uow, plan, task_id)
            audit_after = {**after.state(), **({"reason": patch.reason} if patch.reason else {})}
            await self._audit(uow, actor, "task.update", after, before.state(), audit_after)
            await uow.commit()
        await self.service.refresh_metrics([plan.plan_id])
        return after

    async def report(self, plan_id: str | None, task_id: str, body: TaskReportIn, actor: Principal) -> TaskView:
        now = self.service.now()
        async with self.service.uow() as uow:
            plan = await self.service.plan_in(uow, plan_id)
            before = await self._task(uow, plan, task_id)
            self._check_may_change(plan, before, actor)
            report = NewTaskReport(
                plan_id=plan.plan_id,
                task_id=task_id,
                progress_percent=body.progress_percent,
                summary=body.summary,
                period=body.period,
                evidence=body.evidence,
                evidence_url=None if body.evidence_url is None else str(body.evidence_url),
                reporter=body.reporter,
                recorded_by=actor.name,
                recorded_at=now,
            )
            await uow.tasks.add_report(report)
            await uow.tasks.update(
                plan.plan_id, task_id, TaskChange(body.progress_percent, started=True, updated_at=now)
            )
            after = await self._task(uow, plan, task_id)
            audit_after = {**after.state(), "report": _reported(report)}
            await self._audit(uow, actor, "task.report", after, before.state(), audit_after)
            await uow.commit()
        await self.service.refresh_metrics([plan.plan_id])
        return after

    async def _task(
        self, uow: UnitOfWork, plan: PlanView, task_id: str, *, field: str = "id", status: int = 404
    ) -> TaskView:
        view = await uow.tasks.get(plan.plan_id, task_id, self.service.today())
        if view is None:
            message = f"plan {plan.plan_id!r} has no task {task_id!r}"
            raise NotFound(message, field=field) if status == 404 else Invalid(message, field=field)
        return view

    @staticmethod
    def _check_may_change(plan: PlanView, task: TaskView, actor: Principal) -> None:
        if not actor.may_act_for(plan.plan_id, [task.owner]):
            raise Forbidden(
                f"task {task.task_id} belongs to {plan.unit_label(task.owner)}; this key belongs to {actor.unit}"
            )

    async def _audit(
        self, uow: UnitOfWork, actor: Principal, action: str, view: TaskView, before: Any, after: Any
    ) -> None:
        entry = NewAuditEntry(self.service.now(), actor, action, view.plan_id, "task", view.task_id, before, after)
        await uow.audit.record(entry)


def _check_units(plan: PlanView, owner: str, collaborators: list[str]) -> None:
    known = {unit.code for unit in plan.units}
    if owner not in known:
        raise Invalid(f"unknown unit {owner!r} (plan units: {', '.join(sorted(known))})", field="owner")
    for code in collaborators:
        if code not in known:
            raise Invalid(f"unknown unit {code!r} (plan units: {', '.join(sorted(known))})", field="collaborators")


def _change_of(patch: TaskPatch, progress: Progress, now: datetime) -> TaskChange:
    """The progress always; title, owner and deadline when the patch names them (not null); the collaborators."""
    named = patch.model_fields_set
    return TaskChange(
        progress_percent=progress.percent,
        started=progress.started,
        updated_at=now,
        title=patch.title if "title" in named else None,
        owner=patch.owner if "owner" in named else None,
        deadline=patch.deadline if "deadline" in named else None,
        collaborators=None if patch.collaborators is None else tuple(patch.collaborators),
    )


def _reported(report: NewTaskReport) -> dict[str, str | None]:
    return {"summary": report.summary, "period": report.period, "reporter": report.reporter}
