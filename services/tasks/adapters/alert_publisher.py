"""Publish deadline alerts to DVC_ALERTS, pipelined, with `Nats-Msg-Id` = alert id (JetStream deduplicates)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.js import JetStreamContext

from services.contracts.alerts import TaskAlertKind, TaskAlertRaised
from services.contracts.streams import ALERTS
from services.contracts.subjects import ALERT_TASK_DUE_SOON, ALERT_TASK_OVERDUE
from services.runtime.nats.publishing import OutgoingMessage, publish_all

SUBJECTS = {TaskAlertKind.DUE_SOON: ALERT_TASK_DUE_SOON, TaskAlertKind.OVERDUE: ALERT_TASK_OVERDUE}


def alert_publisher(js: Callable[[], JetStreamContext]) -> Callable[[list[TaskAlertRaised]], Awaitable[None]]:
    async def publish(alerts: list[TaskAlertRaised]) -> None:
        messages = [
            OutgoingMessage(SUBJECTS[alert.kind], alert.model_dump_json().encode(), alert.alert_id) for alert in alerts
        ]
        await publish_all(js(), messages, expected_stream=ALERTS.name)

    return publish
