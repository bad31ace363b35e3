"""HTTP API of the tasks service (design §6), built from its dependencies. Writes need a unit's or an admin's
bearer key; reads that show who reported (reporters, recorders, the audit trail, the report) need any valid key;
the list of plans is open. Keys are checked before a body is read (services.runtime.guard)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response

from services.runtime.api_keys import KeyStore
from services.runtime.guard import KeyGuard, KeyMessages, bearer_check
from services.runtime.problems import Problem
from services.runtime.query_text import PRINTABLE
from services.tasks.adapters.xlsx import to_xlsx
from services.tasks.domain.access import KeySpec, Principal, principal_of
from services.tasks.domain.errors import TasksError
from services.tasks.domain.periods import PeriodRequest
from services.tasks.domain.render import to_csv, to_json, to_markdown
from services.tasks.domain.requests import IndicatorReportIn, TaskCreate, TaskPatch, TaskReportIn
from services.tasks.domain.tasks import TaskStatus
from services.tasks.domain.views import TaskView
from services.tasks.entrypoints import api_models as out
from services.tasks.service_layer.handlers import TasksService
from services.tasks.service_layer.handlers_tasks import TaskHandlers

MAX_ROW_ID = 2**31 - 1  # audit ids are 32-bit integers in PostgreSQL; a larger one made the query fail (500)
PlanQuery = Annotated[
    str | None, Query(alias="plan", max_length=64, pattern=PRINTABLE, description="Plan id (default: the default plan)")
]
Number = Annotated[int, Path(ge=1, le=999, description="Row number in Phụ lục I")]
TaskIdPath = Annotated[str, Path(max_length=64, pattern=PRINTABLE, description="Task id, e.g. III.7.1.b or PL2.NV3")]
_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No key, or an unknown, revoked or expired key", "content": _PROBLEM},
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No key, or an unknown, revoked or expired key", "content": _PROBLEM},
    429: {"description": "Too many writes with this key; retry after `Retry-After` seconds", "content": _PROBLEM},
    403: {"description": "The key's unit does not own this indicator or task", "content": _PROBLEM},
    404: {"description": "Unknown plan, indicator or task", "content": _PROBLEM},
    422: {"description": "Invalid value (field and reason given)", "content": _PROBLEM},
}
_REPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}


def install_error_handler(app: FastAPI) -> None:
    async def on_tasks_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TasksError)
        extensions: dict[str, Any] = {}
        if exc.field is not None:
            extensions["errors"] = [{"field": exc.field, "reason": exc.detail}]
        return Problem(exc.status, exc.detail, **extensions).to_response()

    app.add_exception_handler(TasksError, on_tasks_error)


_MESSAGES = KeyMessages(
    missing="send the unit's key as `Authorization: Bearer <key>`",
    unknown="unknown key (create one with `dvc-pulse tasks keys add`)",
)


def authenticator(keys: KeyStore[KeySpec]) -> KeyGuard:
    """The tasks key guard: admits a unit's or an admin's key and hands the route its Principal."""
    return KeyGuard(
        bearer_check("tasks", keys, _MESSAGES, principal_of),
        scheme_name="tasksKey",
        description="A unit's or an admin's key from `dvc-pulse tasks keys add`, as `Authorization: Bearer <key>`",
    )


def build_router(
    service: TasksService, tasks: TaskHandlers, keys: KeyStore[KeySpec], on_change: Callable[[], None] = lambda: None
) -> APIRouter:
    router = APIRouter(prefix="/v1")
    authenticated = Depends(authenticator(keys))
    _plan_routes(router, service, authenticated)
    _task_reads(router, tasks, authenticated)
    _task_writes(router, service, tasks, authenticated, on_change)
    _report_routes(router, service, authenticated)
    return router


def _plan_routes(router: APIRouter, service: TasksService, authenticated: Any) -> None:
    keyed = [authenticated]

    @router.get("/plans", tags=["plan"], summary="Loaded plans")
    async def list_plans() -> list[out.PlanOut]:
        return [out.plan_out(plan) for plan in await service.plans()]

    @router.get(
        "/plan/indicators",
        tags=["plan"],
        dependencies=keyed,
        responses=_READ_ERRORS,
        summary="Every indicator of Phụ lục I: target, latest value (with its reporter), status",
    )
    async def plan_indicators(plan: PlanQuery = None) -> list[out.IndicatorOut]:
        view, indicators = await service.plan_indicators(plan)
        return [out.indicator_out(view, indicator) for indicator in indicators]

    @router.get(
        "/plan/indicators/{number}",
        tags=["plan"],
        dependencies=keyed,
        responses=_READ_ERRORS,
        summary="One indicator with the history of its values and reporters",
    )
    async def plan_indicator(number: Number, plan: PlanQuery = None) -> out.IndicatorDetailOut:
        view, indicator, history = await service.indicator(plan, number)
        body = out.indicator_out(view, indicator).model_dump()
        return out.IndicatorDetailOut(**body, history=[out.reading_out(reading) for reading in history])

    @router.post(
        "/indicators/{number}/reports",
        tags=["plan"],
        status_code=201,
        responses={**_WRITE_ERRORS, 409: {"description": "A live indicator is not reported", "content": _PROBLEM}},
        summary="Report an indicator's value (its owner unit or an admin)",
    )
    async def report_indicator(
        number: Number, body: IndicatorReportIn, plan: PlanQuery = None, actor: Principal = authenticated
    ) -> out.IndicatorOut:
        indicator = await service.report_indicator(plan, number, body, actor)
        view = await service.plan_view(indicator.plan_id)
        return out.indicator_out(view, indicator)


def _task_reads(router: APIRouter, tasks: TaskHandlers, authenticated: Any) -> None:
    keyed = [authenticated]

    @router.get(
        "/tasks",
        tags=["tasks"],
        dependencies=keyed,
        responses=_READ_ERRORS,
        summary="Tasks with status and latest progress (with its reporter)",
    )
    async def list_tasks(
        plan: PlanQuery = None,
        owner: Annotated[str | None, Query(max_length=32, pattern=PRINTABLE, description="Owner unit code")] = None,
        status: Annotated[TaskStatus | None, Query()] = None,
    ) -> list[out.TaskOut]:
        view, found = await tasks.list_tasks(plan, owner=owner, status=status)
        return [out.task_out(view, task) for task in found]

    @router.get(
        "/tasks/{task_id}",
        tags=["tasks"],
        dependencies=keyed,
        responses=_READ_ERRORS,
        summary="One task with every progress report and its reporter",
    )
    async def get_task(task_id: TaskIdPath, plan: PlanQuery = None) -> out.TaskDetailOut:
        view, task, reports = await tasks.get(plan, task_id)
        body = out.task_out(view, task).model_dump()
        return out.TaskDetailOut(**body, details=task.details, reports=[out.task_report_out(r) for r in reports])


def _task_writes(
    router: APIRouter, service: TasksService, tasks: TaskHandlers, authenticated: Any, on_change: Callable[[], None]
) -> None:
    async def changed(task: TaskView) -> out.TaskOut:
        """A changed task, answered as its plan shows it now (after telling on_change)."""
        on_change()
        view = await service.plan_view(task.plan_id)
        return out.task_out(view, task)

    @router.post("/tasks", tags=["tasks"], status_code=201, responses=_WRITE_ERRORS, summary="Add a task")
    async def create_task(body: TaskCreate, actor: Principal = authenticated) -> out.TaskOut:
        task = await tasks.create(body, actor)
        return await changed(task)

    @router.patch("/tasks/{task_id}", tags=["tasks"], responses=_WRITE_ERRORS, summary="Change a task")
    async def patch_task(
        task_id: TaskIdPath, body: TaskPatch, plan: PlanQuery = None, actor: Principal = authenticated
    ) -> out.TaskOut:
        task = await tasks.patch(plan, task_id, body, actor)
        return await changed(task)

    @router.post(
        "/tasks/{task_id}/reports",
        tags=["tasks"],
        status_code=201,
        responses=_WRITE_ERRORS,
        summary="Report progress on a task (appended to its history)",
    )
    async def report_task(
        task_id: TaskIdPath, body: TaskReportIn, plan: PlanQuery = None, actor: Principal = authenticated
    ) -> out.TaskOut:
        task = await tasks.report(plan, task_id, body, actor)
        return await changed(task)


def _report_routes(router: APIRouter, service: TasksService, authenticated: Any) -> None:
    keyed = [authenticated]

    @router.get(
        "/reports/plan",
        tags=["reports"],
        dependencies=keyed,
        responses=_READ_ERRORS,
        summary="The periodic report (Phụ lục I + Kết quả, Đánh giá; tasks)",
    )
    async def plan_report(
        plan: PlanQuery = None,
        format: Literal["xlsx", "csv", "md", "json"] = "xlsx",
        period: Annotated[
            str | None,
            Query(max_length=10, pattern=PRINTABLE, description="2026, 2026-H1, 2026-Q2 or 2026-05 (the plan's year)"),
        ] = None,
        start: Annotated[date | None, Query(alias="from", description="First day (instead of `period`)")] = None,
        end: Annotated[date | None, Query(alias="to", description="The day after the last one")] = None,
    ) -> Response:
        report = await service.report(plan, PeriodRequest(period, start, end))
        renderers = {"xlsx": to_xlsx, "csv": to_csv, "md": lambda r: to_markdown(r).encode(), "json": to_json}
        stamp = (
            f"{report.generated_at:%Y%m%d}"
            if report.period is None
            else f"{period or 'ky'}-{report.generated_at:%Y%m%d}"
        )
        name = f"bao-cao-{report.plan.plan_id}-{stamp}.{format}"
        return Response(
            renderers[format](report),
            media_type=_REPORT_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/audit", tags=["audit"], responses=_READ_ERRORS, summary="Who changed what and when (any valid key)")
    async def audit(
        plan: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
        entity: Annotated[Literal["plan", "indicator", "task"] | None, Query()] = None,
        entity_id: Annotated[str | None, Query(max_length=300, pattern=PRINTABLE)] = None,
        before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="Entries older than this id")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        _actor: Principal = authenticated,
    ) -> list[out.AuditOut]:
        found = await service.audit(plan_id=plan, entity=entity, entity_id=entity_id, before_id=before_id, limit=limit)
        return [out.audit_out(entry) for entry in found]
