"""Prometheus metrics of the notifier (on the registry passed in). Labels never carry a phone number or name."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.contracts.alerts import NotificationStatus

QUEUE_STATES = ("due", "scheduled", "sending", "awaiting_receipt", "unknown", "needs_review")
SEND_OUTCOMES = ("accepted", "unknown", "refused", "failed")


class HealthLike(Protocol):
    @property
    def provider(self) -> str: ...
    @property
    def state(self) -> str: ...


class _ProviderHealthCollector(Collector):
    def __init__(self, health: Callable[[], Sequence[HealthLike]]) -> None:
        self.health = health

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "dvc_notifier_provider_up", "1 when the provider is used, 0 while failover skips it", labels=["provider"]
        )
        state = GaugeMetricFamily(
            "dvc_notifier_provider_circuit", "Failover circuit state of each provider", labels=["provider", "state"]
        )
        for item in self.health():
            current = str(item.state)
            up.add_metric([item.provider], 0.0 if current == "open" else 1.0)
            for name in ("closed", "open", "half-open"):
                state.add_metric([item.provider, name], 1.0 if current == name else 0.0)
        yield from (up, state)


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry, health: Callable[[], Sequence[HealthLike]] | None = None) -> None:
        self.notifications = Counter(
            "dvc_notifier_notifications_total",
            "Notifications entering each status, by template",
            ["template", "status"],
            registry=registry,
        )
        self.segments = Counter(
            "dvc_notifier_sms_segments_total",
            "SMS segments handed to providers (billing unit), by provider and encoding",
            ["provider", "encoding"],
            registry=registry,
        )
        self.send_seconds = Histogram(
            "dvc_notifier_provider_send_seconds",
            "Time for a provider to accept or refuse one message",
            ["provider"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.sends = Counter(
            "dvc_notifier_provider_sends_total",
            "Send attempts by provider and outcome (accepted, unknown, refused, failed): the error rate is "
            "rate(refused+failed) / rate(all), computed in Prometheus",
            ["provider", "outcome"],
            registry=registry,
        )
        self.events = Counter(
            "dvc_notifier_events_total", "Events and alerts taken in (new ones), by kind", ["kind"], registry=registry
        )
        self.queue = Gauge(
            "dvc_notifier_queue_depth",
            "Notifications waiting: due, scheduled (quiet hours, retry), sending, awaiting_receipt, unknown "
            "(the provider may have it: awaiting a receipt), needs_review (unknown past the review window)",
            ["state"],
            registry=registry,
        )
        self.sent_in_store = Gauge(
            "dvc_notifier_sent_messages",
            "Notifications a provider accepted, counted in the store (kept across restarts; the purge removes the "
            "oldest)",
            registry=registry,
        )
        self.status_backlog = Gauge(
            "dvc_notifier_status_events_pending", "Status events not yet published to DVC_NOTIFY", registry=registry
        )
        for state in QUEUE_STATES:
            self.queue.labels(state).set(0)
        if health is not None:
            registry.register(_ProviderHealthCollector(health))
            for item in health():  # every provider's series exist at 0: a failure ratio reads 0, not no data
                self.send_seconds.labels(item.provider)
                for outcome in SEND_OUTCOMES:
                    self.sends.labels(item.provider, outcome)

    def entered(self, template: str, status: NotificationStatus, count: int = 1) -> None:
        self.notifications.labels(template, status.value).inc(count)
        if status is NotificationStatus.SENT:
            self.sent_in_store.inc(count)  # until the next sweep reads the store's count

    def send_answered(self, provider: str, outcome: str, seconds: float) -> None:
        self.send_seconds.labels(provider).observe(seconds)
        self.sends.labels(provider, outcome).inc()

    def segments_sent(self, provider: str, encoding: str, segments: int) -> None:
        self.segments.labels(provider, encoding).inc(segments)

    def store_measured(self, queue_depth: Mapping[str, int], sent_in_store: int) -> None:
        for state, count in queue_depth.items():
            self.queue.labels(state).set(count)
        self.sent_in_store.set(sent_in_store)

    def status_backlog_measured(self, pending: int) -> None:
        self.status_backlog.set(pending)
