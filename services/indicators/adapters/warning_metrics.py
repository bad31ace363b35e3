"""Early-warning metrics, rendered from the latest sweep (the first sweep runs at start-up, from the
database, so the values are right again right after a restart)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.indicators.adapters.field_label import FieldLabelGuard
from services.indicators.adapters.metrics import LabelGuard
from services.indicators.service_layer.warning_sweep import WarningView


class WarningCollector(Collector):
    def __init__(self, view: WarningView, label: LabelGuard, fields: FieldLabelGuard) -> None:
        self.view = view
        self.label = label
        self.fields = fields

    def collect(self) -> Iterator[Metric]:
        at_risk = GaugeMetricFamily(
            "dvc_dossiers_at_risk",
            "Open dossiers not yet overdue whose risk of ending late is at or above the warning threshold",
            labels=["agency", "field"],
        )
        merged: dict[tuple[str, str], int] = {}
        for (agency, procedure), count in self.view.at_risk_by_procedure.items():
            key = (self.label.agency(agency), self.fields.field(self.view.procedure_fields.get(procedure)))
            merged[key] = merged.get(key, 0) + count
        for key, count in sorted(merged.items()):
            at_risk.add_metric(list(key), count)
        yield at_risk
        alerts = GaugeMetricFamily("dvc_dossier_alerts", "Dossier alerts raised so far, by kind", labels=["kind"])
        for kind, count in sorted(self.view.alerts_by_kind.items()):
            alerts.add_metric([kind], count)
        yield alerts
        yield GaugeMetricFamily(
            "dvc_dossier_alerts_unpublished",
            "Dossier alerts recorded but not yet acknowledged by JetStream",
            value=self.view.unpublished,
        )
        yield CounterMetricFamily(
            "dvc_warning_sweeps", "Early-warning sweeps completed since start", value=self.view.sweeps
        )


def register_metrics(registry: CollectorRegistry, view: WarningView, max_agencies: int) -> None:
    registry.register(WarningCollector(view, LabelGuard(max_agencies), FieldLabelGuard()))
