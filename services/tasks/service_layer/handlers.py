"""Use cases of the tasks service: plans, indicators, live snapshots, deadline alerts, the report.
Every dependency (a unit-of-work factory, clock, metrics) is passed in; each use case is one unit of work and
commits it; task changes live in handlers_tasks.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.contracts.alerts import TaskAlertRaised
from services.tasks.domain.access import SYSTEM, Principal
from services.tasks.domain.alerts import due_alerts
from services.tasks.domain.errors import Conflict, Forbidden, Invalid, NotFound
from services.tasks.domain.evaluation import value_problem
from services.tasks.domain.live import fold_snapshots
from services.tasks.domain.periods import PeriodError, PeriodRequest
from services.tasks.domain.report import PlanReport, build_report
from services.tasks.domain.requests import IndicatorReportIn
from services.tasks.domain.views import IndicatorView, PlanView, Reading
from services.tasks.service_layer.messages import (
    AuditEntry,
    LoadedPlan,
    LoadSummary,
    NewIndicatorReport,
    SnapshotItem,
    SnapshotOutcome,
)
from services.tasks.service_layer.unit_of_work import TasksMetricsPort, UnitOfWork

logger = logging.getLogger("dvc_pulse.tasks")
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TasksService:
    def __init__(
        self,
        *,
        uow: Callable[[], UnitOfWork],
        timezone: str,
        now: Clock = _utc_now,
        metrics: TasksMetricsPort | None = None,
        due_soon_days: int = 14,
        default_plan: str | None = None,
    ) -> None:
        self.uow = uow
        self.timezone = timezone
        self.now = now
        self.metrics = metrics
        self.due_soon_days = due_soon_days
        self.default_plan = default_plan

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.timezone)).date()

    # -- plans -------------------------------------------------------------------------------------------------
    async def load_plan(self, loaded: LoadedPlan, actor: Principal = SYSTEM) -> LoadSummary:
        """Idempotent: a second load of the same file changes nothing and records nothing."""
        now = self.now()
        async with self.uow() as uow:
            before = await uow.plans.get(loaded.plan.plan.id)
            summary = await uow.plans.upsert(loaded, now)
            if summary.changed:
                await uow.audit.record(
                    at=now,
                    actor=actor,
                    action="plan.load",
                    plan_id=summary.plan_id,
                    entity="plan",
                    entity_id=summary.plan_id,
                    before=None if before is None else {"source": before.source, "sha256": before.sha256},
                    after={"source": loaded.source, "sha256": loaded.sha256, **summary.as_dict()},
                )
            await uow.commit()
        await self.refresh_metrics([summary.plan_id])
        return summary

    async def plan_count(self) -> int:
        async with self.uow() as uow:
            return len(await uow.plans.all())

    async def plans(self) -> list[PlanView]:
        async with self.uow() as uow:
            return await uow.plans.all()

    async def plan_view(self, plan_id: str | None) -> PlanView:
        async with self.uow() as uow:
            return await self.plan_in(uow, plan_id)

    async def plan_in(self, uow: UnitOfWork, plan_id: str | None) -> PlanView:
        """The named plan, else the default plan, else the only one loaded."""
        if plan_id is not None:
            found = await uow.plans.get(plan_id)
            if found is None:
                raise NotFound(f"no plan {plan_id!r} is loaded", field="plan")
            return found
        loaded = await uow.plans.all()
        if not loaded:
            raise NotFound("no plan is loaded: run `dvc-pulse tasks load-plan FILE`", field="plan")
        chosen = [view for view in loaded if view.plan_id == self.default_plan] or (loaded if len(loaded) == 1 else [])
        if not chosen:
            names = ", ".join(view.plan_id for view in loaded)
            raise Invalid(f"several plans are loaded ({names}): choose one with ?plan=", field="plan")
        return chosen[0]

    # -- indicators --------------------------------------------------------------------------------------------
    async def plan_indicators(self, plan_id: str | None) -> tuple[PlanView, list[IndicatorView]]:
        async with self.uow() as uow:
            plan = await self.plan_in(uow, plan_id)
            return plan, await uow.plans.indicator_views(plan)

    async def indicator(self, plan_id: str | None, number: int) -> tuple[PlanView, IndicatorView, list[Reading]]:
        async with self.uow() as uow:
            plan = await self.plan_in(uow, plan_id)
            views = await uow.plans.indicator_views(plan, number, include_retired=True)
            if not views:
                raise NotFound(f"plan {plan.plan_id!r} has no indicator {number}", field="number")
            view = views[0]
            history = await uow.plans.indicator_history(plan.plan_id, number, bool(view.spec.live_code))
            return plan, view, history

    async def report_indicator(
        self, plan_id: str | None, number: int, body: IndicatorReportIn, actor: Principal
    ) -> IndicatorView:
        now = self.now()
        async with self.uow() as uow:
            plan = await self.plan_in(uow, plan_id)
            views = await uow.plans.indicator_views(plan, number)
            if not views:
                raise NotFound(f"plan {plan.plan_id!r} has no indicator {number}", field="number")
            view = views[0]
            spec = view.spec
            if not actor.may_act_for(plan.plan_id, spec.owners):
                owners = ", ".join(plan.unit_label(code) for code in spec.owners)
                raise Forbidden(f"indicator {number} is reported by {owners}; this key belongs to {actor.unit}")
            if spec.live_code:
                raise Conflict(f"indicator {number} is computed from the events ({spec.live_code}); it is not reported")
            problem = value_problem(spec.kind, body.value)
            if problem:
                raise Invalid(problem, field="value")
            report = NewIndicatorReport(
                plan_id=plan.plan_id,
                number=number,
                value=body.value,
                period=body.period or str(plan.meta.year),
                evidence=body.evidence,
                evidence_url=None if body.evidence_url is None else str(body.evidence_url),
                reporter=body.reporter,
                note=body.note,
                recorded_by=actor.name,
                recorded_at=now,
            )
            await uow.plans.add_indicator_report(report)
            after = (await uow.plans.indicator_views(plan, number))[0]
            await uow.audit.record(
                at=now,
                actor=actor,
                action="indicator.report",
                plan_id=plan.plan_id,
                entity="indicator",
                entity_id=str(number),
                before=_reading_state(view),
                after=_reading_state(after),
            )
            await uow.commit()
        await self.refresh_metrics([plan.plan_id])
        return after

    # -- live snapshots ----------------------------------------------------------------------------------------
    async def apply_snapshots(self, items: Sequence[SnapshotItem]) -> SnapshotOutcome:
        """One transaction: the message ids not seen yet and the values they carry, folded (exactly once)."""
        async with self.uow() as uow:
            seen = await uow.live.seen([item.message_id for item in items])
            fresh = _first_of_each(items, seen)
            changed: set[str] = set()
            if fresh:
                await uow.live.record_processed(fresh.values(), self.now())
                snapshots = [item.snapshot for item in fresh.values()]
                changed = await uow.live.store(fold_snapshots(await uow.live.live_plans(), snapshots, self.timezone))
            await uow.commit()
        outcome = SnapshotOutcome(len(fresh), len(items) - len(fresh), frozenset(changed))
        if self.metrics is not None:
            self.metrics.snapshots(outcome.applied, outcome.duplicates)
        if outcome.plans:
            await self.refresh_metrics(sorted(outcome.plans))
        return outcome

    async def forget_processed(self, retention_days: int) -> int:
        async with self.uow() as uow:
            forgotten = await uow.live.forget_processed(self.now() - timedelta(days=retention_days))
            await uow.commit()
        return forgotten

    # -- deadline alerts ---------------------------------------------------------------------------------------
    async def raise_due_alerts(self) -> int:
        """Record the alerts today calls for (each once per task, kind and deadline); returns how many are new."""
        now = self.now()
        async with self.uow() as uow:
            open_tasks = await uow.tasks.open_tasks()
            alerts = due_alerts(open_tasks, self.today(), self.due_soon_days, now)
            recorded = await uow.alerts.record_new(alerts, now)
            await uow.commit()
        return recorded

    async def publish_pending(
        self, publish: Callable[[list[TaskAlertRaised]], Awaitable[None]], limit: int = 500
    ) -> int:
        """Publish recorded alerts not yet acknowledged; raises when publishing fails (they stay pending)."""
        published = 0
        while True:
            async with self.uow() as uow:
                pending = await uow.alerts.unpublished(limit)
            if not pending:
                break
            await publish(pending)
            async with self.uow() as uow:
                await uow.alerts.mark_published([alert.alert_id for alert in pending], self.now())
                await uow.commit()
            published += len(pending)
            if self.metrics is not None:
                for alert in pending:
                    self.metrics.alert_published(alert.kind.value)
            if len(pending) < limit:
                break
        return published

    async def audit(
        self,
        *,
        plan_id: str | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        async with self.uow() as uow:
            return await uow.audit.entries(
                plan_id=plan_id, entity=entity, entity_id=entity_id, before_id=before_id, limit=limit
            )

    # -- report and metrics ------------------------------------------------------------------------------------
    async def report(self, plan_id: str | None, asked: PeriodRequest | None = None) -> PlanReport:
        """The report as things stand, or (a period inside the plan's year) as they stood at the period's end."""
        today = self.today()
        async with self.uow() as uow:
            plan = await self.plan_in(uow, plan_id)
            try:
                period = None if asked is None else asked.resolve(plan.meta.year)
            except PeriodError as error:
                raise Invalid(error.reason, field=error.field) from None
            if period is None:
                indicators = await uow.plans.indicator_views(plan)
                tasks = await uow.tasks.views(plan.plan_id, today)
            else:
                end = datetime.combine(period.end, time(0), ZoneInfo(self.timezone))
                indicators = await uow.plans.indicator_views(plan, known_before=(end, period.end))
                as_of = min(today, period.last_day)
                tasks = await uow.tasks.views(plan.plan_id, as_of, reported_before=end)
        return build_report(plan, indicators, tasks, self.now(), self.timezone, period)

    async def refresh_metrics(self, plan_ids: Sequence[str] | None = None) -> None:
        """Recompute the gauges from the database (after changes, on each scheduler tick and at start-up)."""
        if self.metrics is None:
            return
        today = self.today()
        async with self.uow() as uow:
            for plan in await uow.plans.all():
                if plan_ids is not None and plan.plan_id not in plan_ids:
                    continue
                indicators = await uow.plans.indicator_views(plan)
                tasks = await uow.tasks.views(plan.plan_id, today)
                self.metrics.publish(plan.plan_id, indicators, tasks)


def _first_of_each(items: Sequence[SnapshotItem], seen: set[str]) -> dict[str, SnapshotItem]:
    """The first item of each message id not processed yet, in order (a batch may carry a redelivery twice)."""
    fresh: dict[str, SnapshotItem] = {}
    for item in items:
        if item.message_id not in seen and item.message_id not in fresh:
            fresh[item.message_id] = item
    return fresh


def _reading_state(view: IndicatorView) -> dict[str, Any] | None:
    reading = view.latest
    if reading is None:
        return {"value": None, "status": view.status.value}
    return {
        "value": reading.value,
        "period": reading.period,
        "evidence": reading.evidence,
        "evidence_url": reading.evidence_url,
        "reporter": reading.reporter,
        "status": view.status.value,
    }
