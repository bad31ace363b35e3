"""NATS broker factory: reconnects forever, logs per message only at DEBUG."""

from __future__ import annotations

import logging
from typing import Any

from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from faststream.nats.security import NatsSecurity, NatsUserPassword
from nats.aio.client import Client
from nats.js import JetStreamContext


def broker_security(options: dict[str, Any]) -> NatsSecurity | None:
    """FastStream's form of the `user`, `password` and `tls` connect options (`NatsAuth.connect_options`), which
    it takes out of `options`; None for an anonymous plain connection."""
    user, password, tls = options.pop("user", None), options.pop("password", None), options.pop("tls", None)
    if user:
        return NatsUserPassword(user, password or "", ssl_context=tls)
    return NatsSecurity(ssl_context=tls) if tls is not None else None


def create_broker(servers: list[str], *, client_name: str, **kwargs: Any) -> NatsBroker:
    """`kwargs`: nats-py connect options, credentials included (`ServiceSettings.nats_connect_options`)."""
    options = dict(kwargs)
    security = broker_security(options)
    broker = NatsBroker(
        servers=servers,
        name=client_name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        logger=logging.getLogger(f"dvc_pulse.{client_name}.broker"),
        log_level=logging.DEBUG,
        graceful_timeout=10.0,
        security=security,
        **options,
    )
    return broker


def current_connection(broker: NatsBroker) -> Client | None:
    """The broker's nats-py connection, or None before it connected (FastStream's public `connection` raises)."""
    try:
        return broker.connection
    except IncorrectState:
        return None


def jetstream(broker: NatsBroker) -> JetStreamContext:
    """nats-py JetStream context on the broker's own connection (for pipelined `publish_async`)."""
    return broker.connection.jetstream()
