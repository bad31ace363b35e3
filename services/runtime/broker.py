"""NATS broker factory: reconnects forever, logs per message only at DEBUG."""

from __future__ import annotations

import logging
from typing import Any

from faststream.nats import NatsBroker
from nats.js import JetStreamContext


def create_broker(servers: list[str], *, client_name: str, **kwargs: Any) -> NatsBroker:
    return NatsBroker(
        servers=servers,
        name=client_name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        logger=logging.getLogger(f"dvc_pulse.{client_name}.broker"),
        log_level=logging.DEBUG,
        graceful_timeout=10.0,
        **kwargs,
    )


def jetstream(broker: NatsBroker) -> JetStreamContext:
    """nats-py JetStream context on the broker's own connection (for pipelined `publish_async`)."""
    return broker.connection.jetstream()
