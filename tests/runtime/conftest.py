"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client

from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.streams import apply_streams


@pytest.fixture
async def client(private_nats: EmbeddedNats) -> AsyncIterator[Client]:
    """A connection to a fresh nats-server whose streams exist."""
    connection = await nats.connect(private_nats.url)
    await apply_streams(connection.jetstream())
    yield connection
    await connection.close()
