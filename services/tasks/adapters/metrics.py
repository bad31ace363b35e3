"""Prometheus metrics of the tasks service: every plan indicator's latest value, target and met flag (label
`indicator`: the plan's row number), and tasks by status and owner unit. The gauges are recomputed from the
database at start-up, after every change and on each scheduler tick, so they are right after a restart."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.tasks.domain.evaluation import IndicatorStatus
from services.tasks.domain.tasks import TaskStatus
from services.tasks.domain.views import IndicatorView, TaskView


class _PlanCollector(Collector):
    def __init__(self) -> None:
        self.indicators: dict[str, list[IndicatorView]] = {}
        self.tasks: dict[str, list[TaskView]] = {}

    def collect(self) -> Iterator[Metric]:
        labels = ["plan", "indicator"]
        value = GaugeMetricFamily(
            "dvc_plan_indicator_value", "Latest value of a plan indicator, in its unit", labels=labels
        )
        target = GaugeMetricFamily(
            "dvc_plan_indicator_target", "Target of the plan year, in the indicator's unit", labels=labels
        )
        met = GaugeMetricFamily(
            "dvc_plan_indicator_met", "1 when the latest value meets the target, 0 when not", labels=labels
        )
        statuses = GaugeMetricFamily("dvc_plan_indicators", "Plan indicators by status", labels=["plan", "status"])
        for plan_id, views in sorted(self.indicators.items()):
            tally = Tally(view.status for view in views)
            for status in IndicatorStatus:
                statuses.add_metric([plan_id, status.value], tally.get(status, 0))
            for view in views:
                number = [plan_id, str(view.spec.number)]
                if view.latest is not None and view.latest.value is not None:
                    value.add_metric(number, view.latest.value)
                if view.target is not None and view.target.value is not None:
                    target.add_metric(number, view.target.value)
                if view.status in (IndicatorStatus.MET, IndicatorStatus.NOT_MET):
                    met.add_metric(number, 1.0 if view.status is IndicatorStatus.MET else 0.0)
        tasks = GaugeMetricFamily(
            "dvc_plan_tasks", "Plan tasks by owner unit and status", labels=["plan", "owner_unit", "status"]
        )
        for plan_id, task_views in sorted(self.tasks.items()):
            tally_tasks = Tally((task.owner, task.status) for task in task_views)
            for owner in sorted({task.owner for task in task_views}):
                for task_status in TaskStatus:
                    tasks.add_metric([plan_id, owner, task_status.value], tally_tasks.get((owner, task_status), 0))
        yield from (value, target, met, statuses, tasks)


class TasksMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._plans = _PlanCollector()
        registry.register(self._plans)
        self.alerts_published = Counter(
            "dvc_tasks_alerts_published", "Deadline alerts published to DVC_ALERTS", ["kind"], registry=registry
        )
        self.snapshots_applied = Counter(
            "dvc_tasks_snapshots_applied", "Indicator snapshots applied (duplicates not counted)", registry=registry
        )
        self.snapshots_skipped = Counter(
            "dvc_tasks_snapshots_duplicate", "Indicator snapshots already applied (redeliveries)", registry=registry
        )

    def publish(self, plan_id: str, indicators: list[IndicatorView], tasks: list[TaskView]) -> None:
        self._plans.indicators[plan_id] = list(indicators)
        self._plans.tasks[plan_id] = list(tasks)

    def snapshots(self, applied: int, duplicates: int) -> None:
        self.snapshots_applied.inc(applied)
        self.snapshots_skipped.inc(duplicates)

    def alert_published(self, kind: str) -> None:
        self.alerts_published.labels(kind).inc()
