"""One dossier's life sent as portal snapshots (out of order, twice, with a step) gives the same
`GET /v1/dossiers/{code}` and indicators as the same life sent as CloudEvents: the real ingest and the real
indicators service, fed from the same nats-server, once per path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from services.runtime.nats.embedded import EmbeddedNats, free_port
from tests.factories import procedure_published
from tests.indicators import app_helpers
from tests.ingest.conftest import COMMUNE_KEY, post_events
from tests.ingest.conftest import running_app as running_ingest
from tests.ingest.dvcqg_records import CODE, life, life_as_cloudevents, snapshots, step, steps
from tests.ingest.test_dvcqg_http import portal_settings, send

pytestmark = pytest.mark.timeout(180)
BATCH = "application/cloudevents-batch+json"


async def send_as_portal(ingest: httpx.AsyncClient) -> None:
    first, second, third, fourth, fifth = life()
    for record in (third, first):
        await send(ingest, snapshots(record))
    await send(ingest, steps(step()))
    for record in (fifth, second, fourth):
        await send(ingest, snapshots(record))
    answer = await send(ingest, snapshots(first, second, third, fourth, fifth))
    assert [entry["added"] for entry in answer.json()["result"]] == [0] * 5


async def send_as_cloudevents(ingest: httpx.AsyncClient) -> None:
    answer = await post_events(ingest, life_as_cloudevents(), BATCH, authorization=f"Bearer {COMMUNE_KEY}")
    assert answer.status_code == 202, answer.text


async def observed(root: Path, database_url: str, path_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dossier and the indicators once the life went through `path_name` on a fresh NATS and database."""
    server = EmbeddedNats(free_port(), root / "nats")
    server.start()
    try:
        async with (
            app_helpers.connected(server.url) as (_client, js),
            app_helpers.running_app(app_helpers.settings_for(server.url, database_url)) as indicators,
            running_ingest(portal_settings(server.url, root / "var")) as ingest,
        ):
            await app_helpers.publish(js, [procedure_published("1.001193")])
            await (send_as_portal if path_name == "portal" else send_as_cloudevents)(ingest)

            async def returned() -> dict[str, Any] | None:
                answer = await indicators.get(f"/v1/dossiers/{CODE}")
                body: dict[str, Any] = answer.json()
                return body if answer.status_code == 200 and body["status"] == "returned" else None

            dossier = await app_helpers.eventually(returned)
            return dossier, await app_helpers.indicators(indicators)
    finally:
        server.stop()


async def test_portal_snapshots_give_the_dossier_and_indicators_of_cloudevents_when_they_tell_the_same_life(
    tmp_path: Path,
) -> None:
    portal_dossier, portal_indicators = await observed(
        tmp_path / "portal", f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}", "portal"
    )
    events_dossier, events_indicators = await observed(
        tmp_path / "events", f"sqlite+aiosqlite:///{tmp_path / 'events.db'}", "events"
    )

    assert portal_dossier == events_dossier
    assert portal_dossier["supplement_requests"] == 1
    assert portal_dossier["due"]["rescheduled"] is not None
    assert (portal_dossier["agency"], portal_dossier["officer"]) == ("PHONG-KT", "DVCQG")  # transferred, processed
    assert portal_dossier["anomalies"] == 0  # the regressions stay in the ingest: no event was added for them
    assert portal_indicators == events_indicators
    assert portal_indicators["ONTIME"]["denominator"] == 1
