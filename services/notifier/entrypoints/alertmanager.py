"""Alertmanager's webhook payload -> notifier items (kind `alerts.ops.firing`), one per firing alert.

The processed identity of an alert is its fingerprint and `startsAt`: Alertmanager repeats a firing alert on every
`repeat_interval` and from every replica, and all of those are the same alert, so it is told once; the same alert
firing again later (a new `startsAt`) is a new one. Resolved alerts send nothing. Recipients come from the staff
directory: the alert's `unit` label, or `operators`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.notifier.domain.incoming import Incoming

ALERTMANAGER_SOURCE = "urn:dvc:alertmanager"
OPS_ALERT_KIND = "alerts.ops.firing"
DEFAULT_UNIT = "operators"
_SUMMARY_CHARS = 90  # keeps the SMS within its segments whatever the summary

ShortText = Annotated[str, StringConstraints(max_length=2000)]


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: ShortText
    labels: dict[ShortText, ShortText]
    annotations: dict[ShortText, ShortText] = Field(default_factory=dict)
    startsAt: datetime  # noqa: N815 (Alertmanager's field name)
    fingerprint: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9a-zA-Z]+$")]


class AlertmanagerWebhook(BaseModel):
    """Alertmanager webhook_config payload, version 4 (the fields the notifier uses)."""

    model_config = ConfigDict(extra="ignore")

    version: ShortText = "4"
    alerts: Annotated[list[AlertmanagerAlert], Field(max_length=500)]


def firing_items(payload: AlertmanagerWebhook) -> list[Incoming]:
    return [_item(alert) for alert in payload.alerts if alert.status == "firing"]


def _item(alert: AlertmanagerAlert) -> Incoming:
    name = alert.labels.get("alertname", "")[:64] or "alert"
    summary = alert.annotations.get("summary") or name
    if len(summary) > _SUMMARY_CHARS:
        summary = summary[: _SUMMARY_CHARS - 3] + "..."
    values = {"alert_name": name, "severity": alert.labels.get("severity", "warning")[:16], "summary": summary}
    return Incoming(
        source=ALERTMANAGER_SOURCE,
        id=f"{alert.fingerprint}@{alert.startsAt.isoformat()}",
        kind=OPS_ALERT_KIND,
        time=alert.startsAt,
        unit=alert.labels.get("unit", DEFAULT_UNIT)[:64],
        values=values,
    )
