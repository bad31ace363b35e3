"""Prometheus metrics of the indicators service (`dvc_` prefix; labels: indicator, agency, field, channel codes).

Gauges describing the projections are recomputed from the database (at start-up and with every snapshot),
so they are right after a restart; a custom collector renders the latest computed view.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from services.indicators.adapters.field_label import FieldLabelGuard
from services.indicators.domain.indicators import IndicatorResult
from services.indicators.service_layer.read_model import MetricAggregates

_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# processing time buckets, in working seconds: 1 h, 1/2/3/5/7/10/15/20/30 working days of 7.5 h
PROCESSING_BUCKETS = (3600.0, *(days * 27000.0 for days in (1, 2, 3, 5, 7, 10, 15, 20, 30)))


_Counts = Callable[[MetricAggregates], Iterable[tuple[tuple[str | None, ...], int]]]
# name, documentation, labels after agency and field, counts keyed by (agency, field, those labels)
_DOSSIER_FAMILIES: tuple[tuple[str, str, tuple[str, ...], _Counts], ...] = (
    ("dvc_dossiers_received", "Dossiers accepted in the current period", ("channel",), lambda a: a.received.items()),
    (
        "dvc_dossiers_finished",
        "Dossiers whose clock ended in the current period",
        ("timeliness",),
        lambda a: a.finished.items(),
    ),
    ("dvc_dossiers_open", "Dossiers open now", (), lambda a: a.open.items()),
    ("dvc_dossiers_overdue", "Open dossiers past their due date", (), lambda a: a.overdue.items()),
    (
        "dvc_dossiers_late_without_apology",
        "Dossiers of the period late without an apology slip (LATE_NO_APOLOGY's numerator)",
        (),
        lambda a: a.late_without_apology.items(),
    ),
)


@dataclass
class _View:
    indicators: list[IndicatorResult] = field(default_factory=list)
    aggregates: MetricAggregates | None = None
    events_applied: int = 0


class _ProjectionCollector(Collector):
    def __init__(self, view: _View, label: LabelGuard, fields: FieldLabelGuard) -> None:
        self.view = view
        self.label = label
        self.fields = fields

    def collect(self) -> Iterator[Metric]:
        view = self.view
        numerator = GaugeMetricFamily("dvc_indicator_numerator", "Indicator numerator, current period", labels=["code"])
        denominator = GaugeMetricFamily(
            "dvc_indicator_denominator", "Indicator denominator, current period", labels=["code"]
        )
        ratio = GaugeMetricFamily("dvc_indicator_ratio", "Indicator value (0..1), current period", labels=["code"])
        target = GaugeMetricFamily("dvc_indicator_target", "Indicator 2026 target (0..1)", labels=["code"])
        for result in view.indicators:
            numerator.add_metric([result.code], result.numerator)
            denominator.add_metric([result.code], result.denominator)
            if result.value is not None:
                ratio.add_metric([result.code], result.value)
            if result.target is not None:
                target.add_metric([result.code], result.target)
        yield from (numerator, denominator, ratio, target)
        yield CounterMetricFamily("dvc_indicators_events_applied", "Distinct events applied", value=view.events_applied)
        aggregates = view.aggregates
        if aggregates is None:
            return
        yield from self._dossier_families(aggregates)
        histogram = HistogramMetricFamily(
            "dvc_dossier_processing_working_seconds",
            "Working time from acceptance to end (pauses excluded), dossiers ended in the current period",
        )
        buckets = [(_bound(bound), float(count)) for bound, count in aggregates.processing_buckets]
        buckets.append(("+Inf", float(aggregates.processing_count)))
        histogram.add_metric([], buckets, aggregates.processing_sum)
        last = GaugeMetricFamily("dvc_indicators_last_event_timestamp_seconds", "Time of the latest event applied")
        if aggregates.last_event_time is not None:
            last.add_metric([], aggregates.last_event_time.timestamp())
        anomalies = GaugeMetricFamily(
            "dvc_dossiers_with_events_after_end",
            "Dossiers that received events after returned/rejected/withdrawn/stopped (not counted), by the latest "
            "such event's type",
            labels=["type"],
        )
        for kind, count in sorted(aggregates.anomalies.items()):
            anomalies.add_metric([kind], count)
        yield from (histogram, last, anomalies)

    def _dossier_families(self, aggregates: MetricAggregates) -> Iterator[Metric]:
        for name, documentation, labels, counts in _DOSSIER_FAMILIES:
            family = GaugeMetricFamily(name, documentation, labels=["agency", "field", *labels])
            for key, count in self._merge(counts(aggregates)).items():
                family.add_metric(list(key), count)
            yield family

    def _merge(self, values: Iterable[tuple[tuple[str | None, ...], int]]) -> dict[tuple[str, ...], int]:
        """(agency, field, ...) keys as label values; keys that become the same (`other`) are added up."""
        merged: dict[tuple[str, ...], int] = {}
        for key, count in values:
            safe = (self.label.agency(key[0]), self.fields.field(key[1]), *(str(part) for part in key[2:]))
            merged[safe] = merged.get(safe, 0) + count
        return merged


def _bound(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


class LabelGuard:
    """Only short ASCII codes become label values, and at most `limit` agencies; the rest is 'other'."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def agency(self, value: str | None) -> str:
        if value is None or not _LABEL.match(value):
            return "other"
        if value not in self.seen and len(self.seen) >= self.limit:
            return "other"
        self.seen.add(value)
        return value


class IndicatorsMetrics:
    def __init__(self, registry: CollectorRegistry, max_agencies: int = 100) -> None:
        self.view = _View()
        registry.register(_ProjectionCollector(self.view, LabelGuard(max_agencies), FieldLabelGuard()))
        self.apply_lag = Gauge(
            "dvc_indicators_apply_lag_seconds",
            "Seconds between an event's storage in DVC_EVENTS and its application (latest batch)",
            registry=registry,
        )
        self.event_to_kpi_delay = Histogram(
            "dvc_indicators_event_to_kpi_delay_seconds",
            "Seconds between an event's storage in DVC_EVENTS and its application to the KPIs, per batch",
            registry=registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
        )
        self.apply_batch_seconds = Histogram(
            "dvc_indicators_apply_batch_seconds",
            "Time to apply one batch of events to the projections (one transaction)",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )

    def publish_view(self, indicators: list[IndicatorResult], aggregates: MetricAggregates) -> None:
        self.view.indicators = indicators
        self.view.aggregates = aggregates
        self.view.events_applied = max(self.view.events_applied, aggregates.events_applied)

    def count_applied(self, new_events: int) -> None:
        self.view.events_applied += new_events
