"""Use cases of the tasks service, one object: plans, the audit log and the report here; indicators in
handlers_indicators.py, live snapshots and deadline alerts in handlers_live.py, what they share in
handlers_core.py. Every dependency (a unit-of-work factory, clock, metrics) is passed in; each use case is one
unit of work and commits it; task changes live in handlers_tasks.py."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from services.tasks.domain.access import SYSTEM, Principal
from services.tasks.domain.errors import Invalid
from services.tasks.domain.periods import PeriodError, PeriodRequest
from services.tasks.domain.report import PlanReport, build_report
from services.tasks.domain.views import PlanView
from services.tasks.service_layer.handlers_indicators import IndicatorUseCases
from services.tasks.service_layer.handlers_live import LiveUseCases
from services.tasks.service_layer.messages import AuditEntry, AuditQuery, LoadedPlan, LoadSummary, NewAuditEntry


class TasksService(IndicatorUseCases, LiveUseCases):
    # -- plans -------------------------------------------------------------------------------------------------
    async def load_plan(self, loaded: LoadedPlan, actor: Principal = SYSTEM) -> LoadSummary:
        """Idempotent: a second load of the same file changes nothing and records nothing."""
        now = self.now()
        async with self.uow() as uow:
            before = await uow.plans.get(loaded.plan.plan.id)
            summary = await uow.plans.upsert(loaded, now)
            if summary.changed:
                await uow.audit.record(
                    NewAuditEntry(
                        at=now,
                        actor=actor,
                        action="plan.load",
                        plan_id=summary.plan_id,
                        entity="plan",
                        entity_id=summary.plan_id,
                        before=None if before is None else {"source": before.source, "sha256": before.sha256},
                        after={"source": loaded.source, "sha256": loaded.sha256, **summary.as_dict()},
                    )
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

    # -- audit log ---------------------------------------------------------------------------------------------
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
                AuditQuery(plan_id=plan_id, entity=entity, entity_id=entity_id, before_id=before_id, limit=limit)
            )

    # -- report ------------------------------------------------------------------------------------------------
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
