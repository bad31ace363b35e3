"""An event's identity is its (source, id) pair: the same id from two producers is two events, while the same pair
delivered twice is one."""

from __future__ import annotations

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.indicators.app_helpers import connected, eventually, indicators, publish, running_app, settings_for

pytestmark = pytest.mark.timeout(120)

SHARED_ID = "evt-shared-0001"


async def test_one_id_from_two_sources_counts_twice_when_both_events_arrive(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    one_stop = dossier_event("dossier.accepted", "HS-ID-1", event_id=SHARED_ID, channel="online")
    documents = dossier_event(
        "dossier.accepted", "HS-ID-2", event_id=SHARED_ID, source="urn:dvc:lam-thao:document-system", channel="direct"
    )
    async with (
        connected(private_nats.url) as (_client, js),
        running_app(settings_for(private_nats.url, database_url)) as api,
    ):
        await publish(js, [one_stop, documents])
        await publish(js, [one_stop], msg_id_suffix=":resent")  # the same pair again: not a third event
        await publish(js, [dossier_event("dossier.accepted", "HS-ID-3", channel="online")])

        async def three_dossiers() -> dict[str, dict[str, object]] | None:
            rows = await indicators(api)
            return rows if rows["I20"]["denominator"] == 3 else None

        rows = await eventually(three_dossiers)
        assert (rows["I20"]["numerator"], rows["I20"]["denominator"]) == (2, 3)
        assert [(await api.get(f"/v1/dossiers/HS-ID-{n}")).status_code for n in (1, 2)] == [200, 200]
