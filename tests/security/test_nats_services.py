"""Each service works end to end on the embedded server of `make up` connected as its own NATS user (the
permissions of `services.contracts.nats_users`): the services' own test harnesses, with the user's settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from services.contracts.nats_users import ADMIN
from services.notifier.bootstrap import create_app as create_notifier
from services.runtime.nats.pulling import open_request
from tests.factories import dossier_event
from tests.indicators.app_helpers import eventually, publish
from tests.indicators.app_helpers import running_app as running_indicators
from tests.indicators.app_helpers import settings_for as indicators_settings
from tests.ingest.conftest import COMMUNE_KEY, make_settings, post_events
from tests.ingest.conftest import running_app as running_ingest
from tests.notifier.helpers import OPERATOR, FakeClock, vn
from tests.notifier.helpers import settings_for as notifier_settings
from tests.security.conftest import SecuredNats
from tests.tasks.helpers import Clock, indicators_by_number, publish_snapshot, snapshot, started
from tests.tasks.helpers import settings_for as tasks_settings

pytestmark = pytest.mark.timeout(120)


def sqlite(tmp_path: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"


async def consumer_state(secured: SecuredNats, stream: str, durable: str) -> tuple[int, int]:
    """(pending, unacknowledged) of a durable, read by the admin."""
    async with secured.connected(ADMIN) as admin:
        info = await admin.jetstream().consumer_info(stream, durable)
    return info.num_pending, info.num_ack_pending


async def test_ingest_publishes_and_answers_requests_when_it_connects_as_its_own_user(
    secured: SecuredNats, tmp_path: Path
) -> None:
    settings = make_settings(secured.url, tmp_path, **secured.settings("ingest"))
    async with running_ingest(settings) as api, secured.connected("producer") as producer:
        response = await post_events(api, dossier_event("dossier.submitted", "SEC-HTTP-1"))
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == 1
        event = dossier_event("dossier.submitted", "SEC-NATS-1")
        headers = {"Authorization": f"Bearer {COMMUNE_KEY}", "content-type": "application/cloudevents+json"}
        reply = await producer.request("dvc.ingest", orjson.dumps(event), timeout=10, headers=headers)
        assert orjson.loads(reply.data)["status"] == 202


async def test_indicators_consumes_acks_and_publishes_snapshots_when_it_connects_as_its_own_user(
    secured: SecuredNats, tmp_path: Path
) -> None:
    settings = indicators_settings(secured.url, sqlite(tmp_path, "indicators"), **secured.settings("indicators"))
    events = [dossier_event("dossier.submitted", "SEC-IND-1"), dossier_event("dossier.accepted", "SEC-IND-1")]
    async with secured.connected("ingest") as ingest, running_indicators(settings) as api:
        await publish(ingest.jetstream(), events, msg_id_suffix=":indicators")

        async def folded() -> bool:
            response = await api.get("/v1/dossiers/SEC-IND-1")
            return response.status_code == 200 and response.json()["status"] == "accepted"

        await eventually(folded)
        assert await eventually(lambda: _acked(secured, "DVC_EVENTS", "indicators")) == (0, 0)
        async with secured.connected(ADMIN) as admin:
            snapshot_message = await eventually(lambda: _last(admin, "DVC_ALERTS", "dvc.indicators.snapshot"))
        assert orjson.loads(snapshot_message)["snapshot_id"]
    async with secured.connected("indicators") as indicators:
        alert = await indicators.jetstream().publish("dvc.alerts.dossier.overdue", b"{}", headers={"Nats-Msg-Id": "s1"})
    assert alert.stream == "DVC_ALERTS"


async def test_lean_pull_connection_authenticates_when_the_service_has_a_user(secured: SecuredNats) -> None:
    async with secured.connected("indicators") as client:
        request = await open_request(client, "DVC_EVENTS", "indicators")
        try:
            assert request.transport == "lean"
            assert isinstance(await request.next(1, wait=None), list)
        finally:
            await request.close()


async def test_tasks_consumes_snapshots_when_it_connects_as_its_own_user(
    fresh_secured: SecuredNats, tmp_path: Path
) -> None:
    secured = fresh_secured
    overrides: dict[str, Any] = {"consumer": "tasks-snapshots", "snapshot_replay": "all", **secured.settings("tasks")}
    settings = tasks_settings(secured.url, sqlite(tmp_path, "tasks"), tmp_path, **overrides)
    taken = datetime(2026, 5, 15, 2, 0, tzinfo=UTC)
    async with secured.connected("indicators") as indicators, started(settings, Clock(taken)) as running:
        await publish_snapshot(indicators.jetstream(), snapshot({"I20": (19, 20)}, taken))

        async def filled() -> dict[str, Any] | None:
            latest: dict[str, Any] | None = (await indicators_by_number(running.client))[20]["latest"]
            return latest

        assert ((await eventually(filled))["numerator"], (await eventually(filled))["denominator"]) == (19, 20)
        assert await eventually(lambda: _acked(secured, "DVC_ALERTS", "tasks-snapshots")) == (0, 0)


@asynccontextmanager
async def running_notifier(settings: Any, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_notifier(settings, now=clock)
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://notifier") as client,
    ):
        yield client


async def test_notifier_consumes_events_when_it_connects_as_its_own_user(secured: SecuredNats, tmp_path: Path) -> None:
    settings = notifier_settings(secured.url, sqlite(tmp_path, "notifier"), tmp_path, **secured.settings("notifier"))
    event = dossier_event("dossier.accepted", "SEC-NOT-1", time="2026-03-02T08:15:00+07:00")
    async with (
        secured.connected("ingest") as ingest,
        running_notifier(settings, FakeClock(vn("2026-03-02T08:15:30"))) as api,
    ):
        await publish(ingest.jetstream(), [event], msg_id_suffix=":notifier")

        async def planned() -> list[dict[str, Any]]:
            response = await api.get("/v1/notifications", params={"dossier_code": "SEC-NOT-1"}, headers=OPERATOR)
            rows: list[dict[str, Any]] = response.json()
            return rows

        rows = await eventually(planned)
        assert rows[0]["dossier_code"] == "SEC-NOT-1"
        assert (await api.get("/readyz")).status_code == 200
        assert await eventually(lambda: _acked(secured, "DVC_EVENTS", "notifier")) == (0, 0)


async def _acked(secured: SecuredNats, stream: str, durable: str) -> tuple[int, int] | None:
    state = await consumer_state(secured, stream, durable)
    return state if state == (0, 0) else None


async def _last(admin: Any, stream: str, subject: str) -> bytes | None:
    try:
        message = await admin.jetstream().get_last_msg(stream, subject)
    except Exception:
        return None
    data: bytes = message.data
    return data
