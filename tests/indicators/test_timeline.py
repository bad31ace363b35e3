"""GET /v1/dossiers/{code}/events: every event of a dossier in time order, with due dates and reasons and never
the applicant."""

from __future__ import annotations

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.indicators.app_helpers import connected, eventually, publish, running_app, settings_for

pytestmark = pytest.mark.timeout(120)


async def test_timeline_lists_every_event_with_due_dates_when_a_dossier_was_rescheduled(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    code = "HS-TIMELINE-1"
    events = [
        dossier_event("dossier.accepted", code, time="2026-03-02T08:15:00+07:00", due_at="2026-03-05T17:00:00+07:00"),
        dossier_event(
            "dossier.supplement_requested",
            code,
            time="2026-03-03T09:00:00+07:00",
            officer="CB-001",
            reason="Thiếu CCCD",
        ),
        dossier_event("dossier.supplement_received", code, time="2026-03-03T15:00:00+07:00"),
        dossier_event(
            "dossier.rescheduled",
            code,
            time="2026-03-04T10:00:00+07:00",
            officer="CB-001",
            new_due_at="2026-03-09T17:00:00+07:00",
            reason="Chờ xác minh",
        ),
    ]
    async with (
        connected(private_nats.url) as (_client, js),
        running_app(settings_for(private_nats.url, database_url)) as api,
    ):
        await publish(js, events)

        async def listed() -> dict[str, object] | None:
            answer = await api.get(f"/v1/dossiers/{code}/events")
            return answer.json() if answer.status_code == 200 and answer.json()["count"] == 4 else None

        body = await eventually(listed)
        unknown = await api.get("/v1/dossiers/HS-NONE/events")

    assert [event["type"] for event in body["events"]] == [
        "dossier.accepted",
        "dossier.supplement_requested",
        "dossier.supplement_received",
        "dossier.rescheduled",
    ]
    assert body["events"][0]["details"]["due_at"].startswith("2026-03-05T10:00:00")
    assert body["events"][1]["details"]["reason"] == "Thiếu CCCD"
    assert body["events"][3]["details"]["new_due_at"].startswith("2026-03-09T10:00:00")
    assert "Nguyễn" not in str(body)
    assert "0912345678" not in str(body)
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, "application/problem+json")
