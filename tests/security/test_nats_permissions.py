"""The users of `services.contracts.nats_users` on a real nats-server (the embedded server of `make up`):
anonymous clients are refused, and a user can do only what the table allows (issue 12, "No one let in")."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import nats
import pytest
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoServersError
from nats.js import JetStreamContext

from services.contracts.nats_users import ADMIN, SERVICE_USERS, inbox_prefix
from services.contracts.streams import ALL_STREAMS, EVENTS
from tests.security.conftest import SecuredNats

pytestmark = pytest.mark.timeout(60)


class Reported:
    """The errors the server reported to a client (permission violations arrive as `-ERR`, not as answers)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.changed = asyncio.Event()

    async def collect(self, error: Exception) -> None:
        self.errors.append(str(error).lower())
        self.changed.set()

    def has(self, text: str) -> bool:
        return any(text in error for error in self.errors)

    async def until(self, text: str, task: asyncio.Future[object]) -> bool:
        """Wait until `text` is reported or `task` ends (the server allowed it, or answered an error)."""
        while not self.has(text):
            self.changed.clear()
            waiter = asyncio.ensure_future(self.changed.wait())
            done, _ = await asyncio.wait({task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task in done or not done:
                break
        return self.has(text)


@asynccontextmanager
async def denied_errors(secured: SecuredNats, user: str) -> AsyncIterator[tuple[Client, Reported]]:
    """A client of `user` and the errors the server reported to it."""
    reported = Reported()
    options = secured.auth(user).connect_options()
    client = await nats.connect(secured.url, error_cb=reported.collect, max_reconnect_attempts=0, **options)
    try:
        yield client, reported
    finally:
        await client.close()


async def refused(
    secured: SecuredNats, user: str, attempt: Callable[[JetStreamContext], Awaitable[object]], subject: str
) -> bool:
    """True when the server denied `user` the attempt as a permissions violation on `subject` (a denied request
    is never answered: the server reports the violation to the client instead)."""
    violation = f'permissions violation for publish to "{subject.lower()}"'
    async with denied_errors(secured, user) as (client, reported):
        task = asyncio.ensure_future(attempt(client.jetstream(timeout=30)))
        denied = await reported.until(violation, task)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, NatsError, TimeoutError):
            await task
    return denied


async def stream_messages(secured: SecuredNats, name: str) -> int:
    async with secured.connected(ADMIN) as admin:
        return int((await admin.jetstream().stream_info(name)).state.messages)


async def test_anonymous_connection_is_refused_when_the_server_has_users(secured: SecuredNats) -> None:
    with pytest.raises((NoServersError, NatsError, OSError)):
        await nats.connect(secured.url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)


async def test_wrong_password_is_refused_when_a_user_connects(secured: SecuredNats) -> None:
    with pytest.raises((NoServersError, NatsError, OSError)):
        await nats.connect(secured.url, user="ingest", password="guessed", connect_timeout=2, allow_reconnect=False)


async def test_ingest_user_publishes_events_when_it_connects_with_its_password(secured: SecuredNats) -> None:
    before = await stream_messages(secured, EVENTS.name)
    async with secured.connected("ingest") as client:
        ack = await client.jetstream().publish("dvc.events.dossier.accepted", b"{}", headers={"Nats-Msg-Id": "sec-1"})
    assert ack.stream == EVENTS.name
    assert await stream_messages(secured, EVENTS.name) == before + 1


async def test_ingest_user_cannot_publish_alerts_when_it_tries(secured: SecuredNats) -> None:
    before = await stream_messages(secured, "DVC_ALERTS")
    subject = "dvc.alerts.dossier.overdue"
    assert await refused(secured, "ingest", lambda js: js.publish(subject, b"{}"), subject)
    assert await stream_messages(secured, "DVC_ALERTS") == before


async def test_ingest_user_cannot_delete_the_events_stream_when_it_tries(secured: SecuredNats) -> None:
    subject = f"$JS.API.STREAM.DELETE.{EVENTS.name}"
    assert await refused(secured, "ingest", lambda js: js.delete_stream(EVENTS.name), subject)
    assert await stream_messages(secured, EVENTS.name) >= 0  # still there


@pytest.mark.parametrize("user", [user.name for user in SERVICE_USERS])
@pytest.mark.parametrize("stream", [stream.name for stream in ALL_STREAMS])
async def test_no_service_user_deletes_or_purges_a_stream_when_it_tries(
    secured: SecuredNats, user: str, stream: str
) -> None:
    assert await refused(secured, user, lambda js: js.purge_stream(stream), f"$JS.API.STREAM.PURGE.{stream}")
    assert await refused(secured, user, lambda js: js.delete_stream(stream), f"$JS.API.STREAM.DELETE.{stream}")
    assert await stream_messages(secured, stream) >= 0


@pytest.mark.parametrize("user", [user.name for user in SERVICE_USERS])
async def test_service_user_cannot_read_events_it_does_not_consume_when_it_creates_a_consumer(
    secured: SecuredNats, user: str
) -> None:
    """An ephemeral consumer (or another service's durable) would read every event with names and phones."""
    subject = f"$JS.API.CONSUMER.CREATE.{EVENTS.name}"
    assert await refused(secured, user, lambda js: js.add_consumer(EVENTS.name), subject)


async def test_indicators_user_cannot_read_another_users_inbox_when_it_subscribes(secured: SecuredNats) -> None:
    async with denied_errors(secured, "indicators") as (client, reported):
        await client.subscribe(f"{inbox_prefix('notifier')}.>")
        await client.subscribe("_INBOX.>")
        await client.flush()
        await client.flush()  # the -ERR of a subscription comes before the PONG of a later PING
    assert reported.has(f'permissions violation for subscription to "{inbox_prefix("notifier").lower()}.>"')
    assert reported.has('permissions violation for subscription to "_inbox.>"')


async def test_service_user_cannot_dead_letter_as_another_service_when_it_publishes(secured: SecuredNats) -> None:
    assert await refused(secured, "tasks", lambda js: js.publish("dvc.dlq.notifier", b"x"), "dvc.dlq.notifier")
    async with secured.connected("tasks") as client:
        ack = await client.jetstream().publish("dvc.dlq.tasks", b"x", headers={"Nats-Msg-Id": "sec-dlq-1"})
    assert ack.stream == "DVC_DLQ"


async def test_only_admin_updates_streams_when_a_service_user_tries(secured: SecuredNats) -> None:
    async with secured.connected(ADMIN) as admin:
        config = (await admin.jetstream().stream_info("DVC_ALERTS")).config
    subject = "$JS.API.STREAM.UPDATE.DVC_ALERTS"
    assert await refused(secured, "indicators", lambda js: js.update_stream(config), subject)


async def test_producer_user_only_sends_requests_to_ingest_when_it_publishes(secured: SecuredNats) -> None:
    subject = "dvc.events.dossier.accepted"
    assert await refused(secured, "producer", lambda js: js.publish(subject, b"{}"), subject)
