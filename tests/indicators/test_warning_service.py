"""The early warning in the running service: real nats-server, SQLite and PostgreSQL, a controlled clock."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext

from services.indicators.bootstrap import create_app
from services.indicators.service_layer.warning_sweep import Publisher
from services.indicators.settings import Settings
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.publishing import OutgoingMessage, PublishFailed, publish_all
from tests.factories import dossier_event, procedure_published
from tests.indicators.app_helpers import connected, eventually, publish, settings_for

pytestmark = pytest.mark.timeout(300)  # several PATIENCE-bounded waits per test add up on a loaded machine
PATIENCE = 60.0  # seconds; a bound for a loaded machine, never an assertion on speed
VN_MONDAY_8AM = datetime.fromisoformat("2026-03-02T08:00:00+07:00")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.instant = start

    def now(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)


def warning_settings(nats_url: str, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "warning_interval_seconds": 0.05,
        "warning_min_samples": 3,
        "warning_refit_seconds": 0,
        "snapshot_interval_seconds": 3600,
    }
    return settings_for(nats_url, database_url, **{**values, **overrides})


@asynccontextmanager
async def running(
    settings: Settings, clock: Clock, alert_publisher: Publisher | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, now=clock.now, alert_publisher=alert_publisher)
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://indicators") as client,
    ):
        yield client


async def metric(api: httpx.AsyncClient, name: str) -> float | None:
    text = (await api.get("/metrics")).text
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return None if match is None else float(match.group(1))


async def after_sweeps(api: httpx.AsyncClient, count: int) -> None:
    """Wait until `count` more sweeps completed (an outcome, not a duration)."""
    start = await metric(api, "dvc_warning_sweeps_total") or 0.0

    async def done() -> bool:
        return (await metric(api, "dvc_warning_sweeps_total") or 0.0) >= start + count

    await eventually(done, timeout=PATIENCE)


async def stream_alerts(js: JetStreamContext, dossier_code: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(subject, Nats-Msg-Id, body) of every message in DVC_ALERTS about `dossier_code`."""
    subscription = await js.pull_subscribe("dvc.alerts.dossier.>", stream="DVC_ALERTS")
    found: list[tuple[str, str, dict[str, Any]]] = []
    try:
        while True:
            try:
                messages = await subscription.fetch(500, timeout=0.5)
            except TimeoutError:  # nats-py raises asyncio.TimeoutError or its own subclass of it
                return found
            for message in messages:
                body = json.loads(message.data)
                if body["dossier_code"] == dossier_code:
                    found.append((message.subject, (message.headers or {}).get("Nats-Msg-Id", ""), body))
    finally:
        await subscription.unsubscribe()


PROCEDURE = "1.001193"  # published in the field "Hộ tịch" by the factory


def accepted(code: str, due_at: str, procedure: str = PROCEDURE, time: str = "2026-03-02T08:00:00+07:00") -> Any:
    return dossier_event("dossier.accepted", code, time=time, due_at=due_at, procedure_code=procedure)


async def dossier_known(api: httpx.AsyncClient, code: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        response = await api.get(f"/v1/dossiers/{code}")
        return response.json() if response.status_code == 200 else None

    result: dict[str, Any] = await eventually(found, timeout=PATIENCE)
    return result


async def alerts(api: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/alerts", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_overdue_alert_is_published_once_when_the_due_date_passes_without_events(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    clock = Clock(VN_MONDAY_8AM)
    settings = warning_settings(private_nats.url, database_url)
    async with connected(private_nats.url) as (_client, js):
        async with running(settings, clock) as api:
            await publish(js, [accepted("HS-QH-1", due_at="2026-03-02T17:00:00+07:00")])
            await dossier_known(api, "HS-QH-1")
            await after_sweeps(api, 2)
            assert await alerts(api) == []
            clock.advance(hours=24)  # Tuesday 08:00: past the due date, and no event came

            async def overdue() -> list[dict[str, Any]]:
                return [item for item in await alerts(api, kind="overdue") if item["published"]]

            [alert] = await eventually(overdue, timeout=PATIENCE)
            await after_sweeps(api, 3)
        async with running(settings, clock) as api:  # a restart raises nothing again
            await after_sweeps(api, 3)
            after_restart = await alerts(api)
        published = await stream_alerts(js, "HS-QH-1")
    assert (alert["alert_id"], alert["kind"], alert["kind_label"]) == ("overdue:HS-QH-1", "overdue", "Hồ sơ đã quá hạn")
    assert alert["due_at"].startswith("2026-03-02T10:00:00")  # 17:00 in UTC+7
    assert [item["alert_id"] for item in after_restart] == ["overdue:HS-QH-1"]
    assert [(subject, msg_id) for subject, msg_id, _ in published] == [
        ("dvc.alerts.dossier.overdue", "overdue:HS-QH-1")
    ]
    assert published[0][2]["agency"] == "UBND-LAMTHAO"


async def test_at_risk_alert_and_dossier_risk_when_similar_dossiers_ended_late(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    clock = Clock(datetime.fromisoformat("2026-03-09T09:00:00+07:00"))
    settings = warning_settings(private_nats.url, database_url, warning_method="model")
    history = []
    for number in range(3):  # three dossiers of the procedure, each due Monday 17:00 and processed Tuesday
        code = f"HS-CU-{number}"
        history += [
            accepted(code, due_at="2026-03-02T17:00:00+07:00"),
            dossier_event("dossier.processed", code, time="2026-03-03T10:00:00+07:00"),
        ]
    fresh = accepted("HS-MOI", due_at="2026-03-11T17:00:00+07:00", time="2026-03-09T08:00:00+07:00")
    async with connected(private_nats.url) as (_client, js):
        async with running(settings, clock) as api:
            await publish(js, [procedure_published(PROCEDURE), *history, fresh])
            await dossier_known(api, "HS-MOI")

            async def at_risk() -> list[dict[str, Any]]:
                return [item for item in await alerts(api, kind="at_risk", agency="UBND-LAMTHAO") if item["published"]]

            [alert] = await eventually(at_risk, timeout=PATIENCE)
            dossier = await dossier_known(api, "HS-MOI")
            gauge = await metric(api, 'dvc_dossiers_at_risk{agency="UBND-LAMTHAO",field="Hộ tịch"}')
        async with running(settings, clock) as api:
            restored = await metric(api, 'dvc_dossiers_at_risk{agency="UBND-LAMTHAO",field="Hộ tịch"}')
            none_for_other_agency = await alerts(api, agency="PHONG-KT")
            none_in_future = await alerts(api, since="2026-03-10")
            # at_risk only: a sweep between a history dossier's accepted and processed events may raise its overdue
            by_field = await alerts(api, kind="at_risk", field="Hộ tịch")
            none_for_other_field = await alerts(api, field="Đất đai")
            by_procedure = await alerts(api, kind="at_risk", procedure=PROCEDURE)
            none_for_other_procedure = await alerts(api, procedure="9.999999")
            bad_since = await api.get("/v1/alerts", params={"since": "hôm qua"})
        published = await stream_alerts(js, "HS-MOI")
    assert (alert["alert_id"], alert["kind_label"]) == ("at_risk:HS-MOI", "Hồ sơ có nguy cơ quá hạn")
    assert alert["risk"] == {"probability": 1.0, "basis": "procedure", "basis_label": "cùng thủ tục", "sample_size": 3}
    assert dossier["risk"] == {"probability": 1.0, "basis": "procedure", "sample_size": 3}
    assert (gauge, restored) == (1.0, 1.0)
    assert (none_for_other_agency, none_in_future) == ([], [])
    assert [item["alert_id"] for item in by_field] == [item["alert_id"] for item in by_procedure] == ["at_risk:HS-MOI"]
    assert (none_for_other_field, none_for_other_procedure) == ([], [])
    assert bad_since.status_code == 422
    assert bad_since.json()["errors"][0]["field"] == "since"
    assert [(subject, msg_id, body["risk"]) for subject, msg_id, body in published] == [
        ("dvc.alerts.dossier.at_risk", "at_risk:HS-MOI", 1.0)
    ]


async def test_default_rule_alerts_a_dossier_past_95_percent_of_its_time_when_no_history_exists(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    # accepted Monday 08:00, due 17:00: 7 working hours; at 16:40, 6h40 used (95.2%): the rule's cut
    clock = Clock(datetime.fromisoformat("2026-03-02T16:40:00+07:00"))
    settings = warning_settings(private_nats.url, database_url, warning_min_samples=30)
    assert (settings.warning_method, settings.warning_rule_cut) == ("rule", 0.95)
    at_cut = accepted("HS-SAT-HAN", due_at="2026-03-02T17:00:00+07:00")
    with_time = accepted("HS-CON-THOI-GIAN", due_at="2026-03-03T17:00:00+07:00")
    async with connected(private_nats.url) as (_client, js), running(settings, clock) as api:
        await publish(js, [procedure_published(PROCEDURE), at_cut, with_time])
        await dossier_known(api, "HS-CON-THOI-GIAN")

        async def at_risk() -> list[dict[str, Any]]:
            return [item for item in await alerts(api, kind="at_risk") if item["published"]]

        found = await eventually(at_risk, timeout=PATIENCE)
        await after_sweeps(api, 2)
        settled = await at_risk()
        dossier = await dossier_known(api, "HS-SAT-HAN")
    # no model can be fitted (no ended dossier): the rule alone raises the alert, without a probability
    assert [(item["alert_id"], item["risk"]) for item in found] == [("at_risk:HS-SAT-HAN", None)]
    assert [item["alert_id"] for item in settled] == ["at_risk:HS-SAT-HAN"]
    assert dossier["risk"] is None


class FlakyPublisher:
    """JetStream publishing that fails while `failing`: either before anything reached the stream, or after
    the stream stored the messages (the acknowledgement is lost: the sweep cannot know they were stored)."""

    def __init__(self, js: JetStreamContext, stored_before_failing: bool) -> None:
        self.js = js
        self.stored_before_failing = stored_before_failing
        self.failing = True

    async def __call__(self, messages: Sequence[OutgoingMessage]) -> None:
        if self.failing and not self.stored_before_failing:
            raise PublishFailed("TimeoutError: no acknowledgement")
        await publish_all(self.js, messages, expected_stream="DVC_ALERTS")
        if self.failing:
            raise PublishFailed("TimeoutError: acknowledgement lost")


@pytest.mark.parametrize("stored_before_failing", [False, True], ids=["not-stored", "ack-lost"])
async def test_alert_is_published_exactly_once_when_the_sweep_restarts_after_a_failed_publish(
    private_nats: EmbeddedNats, database_url: str, stored_before_failing: bool
) -> None:
    clock = Clock(VN_MONDAY_8AM)
    settings = warning_settings(private_nats.url, database_url)
    async with connected(private_nats.url) as (_client, js):
        flaky = FlakyPublisher(js, stored_before_failing)
        async with running(settings, clock, flaky) as api:
            await publish(js, [accepted("HS-LOI-1", due_at="2026-03-02T17:00:00+07:00")])
            await dossier_known(api, "HS-LOI-1")
            clock.advance(hours=24)

            async def recorded() -> list[dict[str, Any]]:
                return await alerts(api, kind="overdue")

            [before] = await eventually(recorded, timeout=PATIENCE)
            await after_sweeps(api, 3)  # every sweep retries the publish, and fails
            unpublished = await metric(api, "dvc_dossier_alerts_unpublished")
            stored_while_failing = len(await stream_alerts(js, "HS-LOI-1"))
        async with running(settings, clock) as api:  # restart with JetStream acknowledging again
            await after_sweeps(api, 2)
            [after] = await alerts(api)
            unpublished_after = await metric(api, "dvc_dossier_alerts_unpublished")
        published = await stream_alerts(js, "HS-LOI-1")
    assert (before["published"], unpublished, stored_while_failing) == (False, 1.0, 1 if stored_before_failing else 0)
    assert (after["alert_id"], after["published"], after["raised_at"]) == (
        "overdue:HS-LOI-1",
        True,
        before["raised_at"],
    )
    assert unpublished_after == 0.0
    assert [msg_id for _, msg_id, _ in published] == ["overdue:HS-LOI-1"]
