"""What every tasks use case shares: its dependencies (a unit-of-work factory, clock, metrics), today's date in
the plan's time zone, the plan a request names and the gauges recomputed after a change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from services.tasks.domain.errors import Invalid, NotFound
from services.tasks.domain.views import PlanView
from services.tasks.service_layer.unit_of_work import TasksMetricsPort, UnitOfWork

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ServiceCore:
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
