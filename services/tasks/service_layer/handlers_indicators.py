"""Use cases on a plan's indicators: list them, read one with its history, record a reported value (audited)."""

from __future__ import annotations

from typing import Any

from services.tasks.domain.access import Principal
from services.tasks.domain.errors import Conflict, Forbidden, Invalid, NotFound
from services.tasks.domain.evaluation import value_problem
from services.tasks.domain.requests import IndicatorReportIn
from services.tasks.domain.views import IndicatorView, PlanView, Reading
from services.tasks.service_layer.handlers_core import ServiceCore
from services.tasks.service_layer.messages import NewAuditEntry, NewIndicatorReport


class IndicatorUseCases(ServiceCore):
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
                NewAuditEntry(
                    at=now,
                    actor=actor,
                    action="indicator.report",
                    plan_id=plan.plan_id,
                    entity="indicator",
                    entity_id=str(number),
                    before=_reading_state(view),
                    after=_reading_state(after),
                )
            )
            await uow.commit()
        await self.refresh_metrics([plan.plan_id])
        return after


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
