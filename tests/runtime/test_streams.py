from __future__ import annotations

from pathlib import Path

import nats
from nats.js.api import StorageType

from services.contracts.streams import ALL_STREAMS, EVENTS
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.streams import apply_streams, missing_streams


async def test_streams_are_created_then_unchanged_when_applied_twice(private_nats: EmbeddedNats) -> None:
    client = await nats.connect(private_nats.url)
    try:
        js = client.jetstream()
        assert await missing_streams(js, [s.name for s in ALL_STREAMS]) == [s.name for s in ALL_STREAMS]

        first = await apply_streams(js)
        second = await apply_streams(js)

        assert [c.action for c in first] == ["created"] * 4
        assert [c.action for c in second] == ["unchanged"] * 4
        info = await js.stream_info(EVENTS.name)
        assert info.config.storage == StorageType.FILE
        assert info.config.deny_delete
        assert info.config.deny_purge
        assert (info.config.duplicate_window or 0) >= 3600
    finally:
        await client.close()


async def test_stream_is_updated_when_its_definition_changed(private_nats: EmbeddedNats, tmp_path: Path) -> None:
    client = await nats.connect(private_nats.url)
    try:
        js = client.jetstream()
        await apply_streams(js)
        from dataclasses import replace

        longer = replace(EVENTS, duplicate_window_seconds=3 * 3600.0)
        [change] = await apply_streams(js, [longer])

        assert change.action == "updated"
        assert "duplicate_window" in change.describe()
    finally:
        await client.close()
