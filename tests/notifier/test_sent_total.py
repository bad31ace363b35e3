"""The SMS total `make up`'s status line shows is read from the store, so a restart of the notifier keeps it,
while the process's own counters start again from zero."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.ops.launcher_status import KpiLine
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.helpers import (
    FakeClock,
    connected,
    eventually,
    metric_value,
    publish,
    running_notifier,
    settings_for,
    vn,
)

pytestmark = pytest.mark.timeout(180)


def _accepted(code: str) -> dict[str, Any]:
    person = {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": "0912345678", "sms_consent": True}
    return dossier_event("dossier.accepted", code, time="2026-03-02T08:15:00+07:00", applicant=person)


def _status_line(notifier_metrics: str) -> str:
    """`make up`'s status line, with the notifier's metrics above and an indicators service that has no data."""

    def get(url: str) -> str:
        if url.startswith("http://127.0.0.1:2/"):
            return notifier_metrics
        return "[]" if url.endswith("/v1/indicators") else ""

    return KpiLine(1, 2, get=get).line()


async def test_sms_total_is_kept_when_the_notifier_restarts(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    settings = settings_for(private_nats.url, database_url, tmp_path)
    async with connected(private_nats.url) as (_client, js), running_notifier(settings, clock) as notifier:
        await publish(js, [_accepted("HS-001"), _accepted("HS-002")])
        await eventually(lambda: len(notifier.outbox()) == 2)
        before = await eventually(lambda: _sent_when(notifier.metrics(), 2.0))

    async with running_notifier(settings, clock) as restarted:
        after = await eventually(lambda: _sent_when(restarted.metrics(), 2.0))

    assert metric_value(before, "dvc_notifier_notifications_total", template="citizen.accepted", status="sent") == 2.0
    assert metric_value(after, "dvc_notifier_notifications_total", template="citizen.accepted", status="sent") in (
        None,
        0.0,
    )
    assert "SMS 2 sent" in _status_line(after)


async def _sent_when(metrics: Any, wanted: float) -> str | None:
    text: str = await metrics
    return text if metric_value(text, "dvc_notifier_sent_messages") == wanted else None
