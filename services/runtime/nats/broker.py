"""NATS broker factory: reconnects forever, logs per message only at DEBUG."""

from __future__ import annotations

import builtins
import logging
from typing import Any
from weakref import WeakKeyDictionary

from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from faststream.nats.security import NatsSecurity, NatsUserPassword
from nats.aio.client import Client
from nats.js import JetStreamContext


def catch_pull_fetch_timeouts() -> None:
    """Work around faststream 0.7.8 + nats-py 2.16: `fetch()` may raise a bare `asyncio.TimeoutError` (when the
    batch deadline runs out around the no-wait probe) while FastStream's pull loop only catches
    `nats.errors.TimeoutError`, so the pull task dies and the messages it already fetched for the batch wait
    for `ack_wait` before redelivery. Catching the builtin TimeoutError (its base class) ends the batch instead.
    Idempotent; called by `create_broker`."""
    from faststream.nats.subscriber.usecases import stream_pull_subscriber

    stream_pull_subscriber.__dict__["TimeoutError"] = builtins.TimeoutError


def broker_security(options: dict[str, Any]) -> NatsSecurity | None:
    """FastStream's form of the `user`, `password` and `tls` connect options (`NatsAuth.connect_options`), which
    it takes out of `options`; None for an anonymous plain connection."""
    user, password, tls = options.pop("user", None), options.pop("password", None), options.pop("tls", None)
    if user:
        return NatsUserPassword(user, password or "", ssl_context=tls)
    return NatsSecurity(ssl_context=tls) if tls is not None else None


# The inbox prefix each broker was created with: FastStream keeps its connect options private.
_INBOX_PREFIXES: WeakKeyDictionary[NatsBroker, str] = WeakKeyDictionary()


def create_broker(servers: list[str], *, client_name: str, **kwargs: Any) -> NatsBroker:
    """`kwargs`: nats-py connect options, credentials included (`ServiceSettings.nats_connect_options`)."""
    catch_pull_fetch_timeouts()
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
    _INBOX_PREFIXES[broker] = str(options.get("inbox_prefix") or "_INBOX")
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


def pull_inbox_prefix(broker: NatsBroker) -> bytes:
    """The inbox prefix (with its dot) for FastStream's pull subscribers, whose own default is `_INBOX.` whatever
    the connection's: a NATS user may only receive on its own prefix (`services.contracts.nats_users`)."""
    return f"{_INBOX_PREFIXES.get(broker, '_INBOX')}.".encode()
