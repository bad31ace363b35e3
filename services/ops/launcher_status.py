"""The live status line `make up` prints every few seconds, read from the indicators' and notifier's APIs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

STATUS_CODES = ("ONTIME", "I20", "I22", "I23", "I24")


def metric_sum(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels`, in a Prometheus text exposition."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def _percent(row: dict[str, object]) -> str:
    value = row.get("value")
    return "-" if not isinstance(value, int | float) else f"{value:.1f}%"  # the API speaks percent


class KpiLine:
    """`hh:mm:ss events N (+d) | accepted N | ONTIME x% I20 x% ... | overdue N | SMS N sent, M held`.

    Values are the current year's (the indicators' default period); `held` counts messages waiting for the end
    of the quiet hours or for a retry."""

    def __init__(
        self, indicators_port: int, notifier_port: int | None, get: Callable[[str], str] | None = None
    ) -> None:
        self.indicators = f"http://127.0.0.1:{indicators_port}"
        self.notifier = None if notifier_port is None else f"http://127.0.0.1:{notifier_port}"
        self.get = get or (lambda url: httpx.get(url, timeout=2.0).text)
        self.last_events: float | None = None

    def line(self) -> str:
        now = f"{datetime.now():%H:%M:%S}"
        try:
            rows = {row["code"]: row for row in orjson.loads(self.get(f"{self.indicators}/v1/indicators"))}
            metrics = self.get(f"{self.indicators}/metrics")
            sms = self.get(f"{self.notifier}/metrics") if self.notifier else ""
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return f"{now} indicators not answering yet"
        events = metric_sum(metrics, "dvc_indicators_events_applied_total")
        delta = "" if self.last_events is None else f" (+{events - self.last_events:,.0f})"
        self.last_events = events
        parts = [f"{now} events {events:,.0f}{delta}"]
        if "I20" in rows:
            parts.append(f"accepted {rows['I20']['denominator']:,}")
        parts.append(" ".join(f"{code} {_percent(rows[code])}" for code in STATUS_CODES if code in rows))
        parts.append(f"overdue {metric_sum(metrics, 'dvc_dossiers_overdue'):,.0f}")
        if sms:
            sent = metric_sum(sms, "dvc_notifier_sent_messages")  # from the store: survives restarts
            held = metric_sum(sms, "dvc_notifier_queue_depth", state="scheduled")
            parts.append(f"SMS {sent:,.0f} sent" + (f", {held:,.0f} held" if held else ""))
        return " | ".join(parts)
