"""Two ingest replicas behind one address, publishing to one nats-server: ingest keeps no state of its own, and
the same event posted to both is stored once (JetStream deduplicates by `Nats-Msg-Id`, derived from the
event's source and id)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.indicators.app_helpers import connected
from tests.ingest.conftest import BATCH, make_settings, post_events, running_app, stream_count


async def test_event_stored_once_when_posted_to_both_replicas(private_nats: EmbeddedNats, tmp_path: Path) -> None:
    events = [dossier_event("dossier.accepted", f"000.00.30.H04-260302-{index:04d}") for index in range(200)]
    async with (
        connected(private_nats.url) as (_client, js),
        running_app(make_settings(private_nats.url, tmp_path / "replica-1")) as first,
        running_app(make_settings(private_nats.url, tmp_path / "replica-2")) as second,
    ):
        answers = await asyncio.gather(
            *(post_events(replica, [event], BATCH) for event in events for replica in (first, second))
        )
        stored = await stream_count(js)

    assert {answer.status_code for answer in answers} == {202}
    results = [answer.json()["results"][0] for answer in answers]
    by_event: dict[str, set[int]] = {}
    for result in results:
        by_event.setdefault(result["id"], set()).add(result["stream_sequence"])
    assert stored == len(events)
    assert all(len(sequences) == 1 for sequences in by_event.values())  # both replicas answer the same message
    assert sorted(result["status"] for result in results).count("accepted") == len(events)
