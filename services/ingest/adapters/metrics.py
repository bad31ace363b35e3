"""Ingest metrics on the app's own registry; labels are bounded (event type, outcome, reason, ingress)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.ingest.domain.validation import Reason


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "dvc_ingest_events_total",
            "Events by type and outcome (accepted, duplicate, rejected); rejected ones carry the reason",
            ["ingress", "type", "outcome", "reason"],
            registry=registry,
        )
        self.rejected_requests = Counter(
            "dvc_ingest_rejected_requests_total",
            "Requests refused whole, by reason",
            ["ingress", "reason"],
            registry=registry,
        )
        self.publish_seconds = Histogram(
            "dvc_ingest_publish_seconds",
            "Time from publishing a batch to JetStream's last ack",
            ["ingress"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.batch_size = Histogram(
            "dvc_ingest_batch_events",
            "Events per accepted request",
            ["ingress"],
            registry=registry,
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
        )

        self.portal_records = Counter(
            "dvc_ingest_dvcqg_records_total",
            "National-portal records by service and result: kept, regressed (kept as an anomaly), or the refusal code",
            ["service", "result"],
            registry=registry,
        )

    def published(self, ingress: str, accepted: Mapping[str, int], duplicates: Mapping[str, int]) -> None:
        for event_type, count in accepted.items():
            self.events.labels(ingress, event_type, "accepted", "").inc(count)
        for event_type, count in duplicates.items():
            self.events.labels(ingress, event_type, "duplicate", "").inc(count)
        self.batch_size.labels(ingress).observe(sum(accepted.values()) + sum(duplicates.values()))

    def rejected(self, ingress: str, reason: Reason, types: Mapping[str, int]) -> None:
        self.rejected_requests.labels(ingress, reason.value).inc()
        for event_type, count in types.items():
            self.events.labels(ingress, event_type, "rejected", reason.value).inc(count)

    def publish_took(self, ingress: str, seconds: float) -> None:
        self.publish_seconds.labels(ingress).observe(seconds)

    def portal_record(self, service: str, result: str) -> None:
        self.portal_records.labels(service, result).inc()
