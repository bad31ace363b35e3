"""A real nats-server with the users and permissions of `services.contracts.nats_users`, exactly as `make up`
starts it (`secured_nats`), and clients connected as one of its users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from services.contracts.nats_users import ADMIN
from services.runtime.nats.auth import NatsAuth
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.embedded_secrets import EmbeddedSecrets, secured_nats
from services.runtime.nats.streams import apply_streams


@dataclass
class SecuredNats:
    server: EmbeddedNats
    secrets: EmbeddedSecrets
    var_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def auth(self, user: str) -> NatsAuth:
        return NatsAuth(user, self.secrets.passwords[user])

    def settings(self, user: str) -> dict[str, str]:
        """Service settings that connect as `user` (what the launcher passes through the environment)."""
        return {"nats_user": user, "nats_password": self.secrets.passwords[user]}

    @asynccontextmanager
    async def connected(self, user: str) -> AsyncIterator[Client]:
        client = await nats.connect(
            self.url, connect_timeout=2, max_reconnect_attempts=0, **self.auth(user).connect_options()
        )
        try:
            yield client
        finally:
            await client.close()


def start_secured(var_dir: Path) -> SecuredNats:
    server, secrets = secured_nats(free_port(), var_dir, var_dir / "nats.log")
    server.start()
    return SecuredNats(server, secrets, var_dir)


@pytest.fixture(scope="module")
async def secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SecuredNats]:
    """The embedded server of `make up` (users, permissions, encrypted store) with the streams applied by admin."""
    running = start_secured(tmp_path_factory.mktemp("var"))
    async with running.connected(ADMIN) as admin:
        await apply_streams(admin.jetstream())
    yield running
    running.server.stop()


@pytest.fixture
async def fresh_secured(tmp_path: Path) -> AsyncIterator[SecuredNats]:
    """As `secured`, for a test that needs streams nobody else wrote to."""
    running = start_secured(tmp_path / "var")
    async with running.connected(ADMIN) as admin:
        await apply_streams(admin.jetstream())
    yield running
    running.server.stop()
