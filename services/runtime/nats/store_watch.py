"""How full the JetStream store is, as two gauges on the service's `/metrics` (alert DvcJetStreamStoreFilling).

The account's JetStream info (`$JS.API.INFO`) gives the bytes stored on disk by every stream of the account.
Its limit is the account's own `max_storage` when the server sets one; an account without one (the default:
`jetstream { max_file_store }` limits the whole server) reports -1, so the limit is then the configured
`max_file_store` (deploy/nats/server.conf's value unless the setting says otherwise). Watching the bytes the
streams hold, rather than the disk, needs no exporter next to NATS and no access to its volume.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError
from prometheus_client import CollectorRegistry, Gauge

from services.runtime.waiting import raise_if_cancelled

logger = logging.getLogger("dvc_pulse.store_watch")

# deploy/nats/server.conf and cluster.conf: `max_file_store: 50GB` (NATS reads GB as 1024^3 bytes)
DEFAULT_STORE_LIMIT_BYTES = 50 * 1024**3


class JetStreamStoreWatch:
    """Refreshes `dvc_jetstream_store_bytes` and `dvc_jetstream_store_limit_bytes` every `refresh_seconds`."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        configured_limit_bytes: int = DEFAULT_STORE_LIMIT_BYTES,
        refresh_seconds: float = 15.0,
    ) -> None:
        self.configured_limit_bytes = configured_limit_bytes
        self.refresh_seconds = refresh_seconds
        self.stored = Gauge(
            "dvc_jetstream_store_bytes",
            "Bytes the account's JetStream streams hold in the file store ($JS.API.INFO storage)",
            registry=registry,
        )
        self.limit = Gauge(
            "dvc_jetstream_store_limit_bytes",
            "The file store's limit: the account's max_storage, or the server's configured max_file_store",
            registry=registry,
        )
        self.limit.set(configured_limit_bytes)

    async def refresh(self, client: Client) -> None:
        try:
            info = await client.jetstream().account_info()
        except (NatsError, JetStreamError, TimeoutError) as error:  # NATS away or the request refused
            logger.debug("no JetStream account info: %s", error)
            return
        self.stored.set(info.storage)
        account_limit = info.limits.max_storage or -1  # -1: no account limit, the server's applies
        self.limit.set(account_limit if account_limit > 0 else self.configured_limit_bytes)

    async def run(self, connection: Callable[[], Client | None]) -> None:
        """Refresh while connected, until cancelled; the first refresh waits one period, as the consumer info
        does, so that no JetStream request is in flight while the broker is still starting."""
        while True:
            await asyncio.sleep(self.refresh_seconds)
            client = connection()
            if client is not None and client.is_connected:
                await self.refresh(client)
                raise_if_cancelled()
