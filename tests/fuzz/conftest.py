"""The fuzz run's own nats-server (fuzzed events never reach the session server other tests read) and the four
services on it, each started once for the module that fuzzes it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.streams import apply_streams


async def _apply_streams(url: str) -> None:
    client = await nats.connect(url)
    try:
        await apply_streams(client.jetstream())
    finally:
        await client.close()


@pytest.fixture(scope="module")
def fuzz_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(free_port(), tmp_path_factory.mktemp("fuzz-nats"))
    server.start()
    asyncio.run(_apply_streams(server.url))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fuzz_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-var")
