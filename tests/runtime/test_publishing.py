"""Pipelined publishing writes its own HPUB commands, through nats-py's connection or a lean one of its own:
what JetStream stores must be what nats-py's `publish` would have sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
from nats.aio.client import Client
from nats.js.api import PubAck

from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.lean_publishing import LeanPublisher, LeanPublishing
from services.runtime.nats.publishing import OutgoingMessage, PublishFailed, publish_all

SUBJECT = "dvc.events.dossier.accepted.0123456789abcdef"
Publish = Callable[..., Awaitable[list[PubAck]]]


@pytest.fixture(params=["nats-py", "lean"])
async def publish(request: pytest.FixtureRequest, client: Client) -> AsyncIterator[Publish]:
    if request.param == "nats-py":

        async def through_nats_py(messages: Sequence[OutgoingMessage], **options: object) -> list[PubAck]:
            return await publish_all(client.jetstream(), messages, **options)  # type: ignore[arg-type]

        yield through_nats_py
        return
    lean = await LeanPublisher.open(client, "test-publish")
    yield lean.publish
    lean.close()


async def test_stored_messages_keep_payload_headers_and_order_when_published_pipelined(
    client: Client, publish: Publish
) -> None:
    js = client.jetstream()
    messages = [
        OutgoingMessage(SUBJECT, f'{{"n":{number}}}'.encode(), f"id-{number}", {"Dvc-Origin": f" o{number} "})
        for number in range(50)
    ]

    acks = await publish(messages, expected_stream="DVC_EVENTS")

    assert [ack.seq for ack in acks] == list(range(1, 51))
    stored = await js.get_msg("DVC_EVENTS", 7)
    assert stored.data == b'{"n":6}'
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == "id-6"
    assert stored.headers["Dvc-Origin"] == "o6"


async def test_second_copy_is_a_duplicate_when_its_message_id_was_stored(publish: Publish) -> None:
    message = OutgoingMessage(SUBJECT, b"{}", "same-id")

    first, second = await publish([message, message])

    assert (first.duplicate, second.duplicate) == (None, True)
    assert second.seq == first.seq


async def test_header_value_line_breaks_become_spaces_when_published(client: Client, publish: Publish) -> None:
    js = client.jetstream()

    (ack,) = await publish([OutgoingMessage(SUBJECT, b"{}", "crlf", {"Dvc-Error": "one\r\ntwo"})])

    stored = await js.get_msg("DVC_EVENTS", ack.seq)
    assert stored.headers is not None
    assert stored.headers["Dvc-Error"] == "one  two"


@pytest.mark.parametrize(
    "message",
    [
        OutgoingMessage("dvc.events.dossier accepted", b"{}", "space"),
        OutgoingMessage("", b"{}", "empty"),
        OutgoingMessage(SUBJECT, b"{}", "bad-header", {"Bad Name": "x"}),
    ],
)
async def test_nothing_is_stored_when_a_subject_or_header_name_is_malformed(
    client: Client, publish: Publish, message: OutgoingMessage
) -> None:
    js = client.jetstream()

    with pytest.raises(PublishFailed):
        await publish([message])

    assert (await js.stream_info("DVC_EVENTS")).state.messages == 0


async def test_no_ack_is_awaited_when_there_is_nothing_to_publish(publish: Publish) -> None:
    assert await publish([]) == []


async def test_publish_fails_at_once_when_no_stream_listens_on_the_subject(publish: Publish) -> None:
    with pytest.raises(PublishFailed, match=r"503|no responders"):
        await publish([OutgoingMessage("nobody.listens.here", b"{}", "lonely")], timeout=30)


async def test_publish_fails_when_the_server_stops_before_the_acks(private_nats: EmbeddedNats, client: Client) -> None:
    lean = await LeanPublisher.open(client, "test-publish")
    private_nats.stop()

    with pytest.raises(PublishFailed):
        await lean.publish([OutgoingMessage(SUBJECT, b"{}", "cut")], timeout=30)

    assert not lean.alive


async def test_nats_py_is_used_when_the_connection_is_not_plain_nats(client: Client) -> None:
    publishing = LeanPublishing("test-publish")
    client.options["tls"] = object()  # what `wire.supported` reads: a TLS connection is not spoken by the lean one

    assert await publishing.publisher(client) is None


async def test_lean_publisher_is_reopened_when_its_connection_was_lost(client: Client) -> None:
    publishing = LeanPublishing("test-publish")
    first = await publishing.publisher(client)
    assert first is not None
    first.close()

    second = await publishing.publisher(client)

    assert second is not None
    assert second is not first
    assert [ack.seq for ack in await second.publish([OutgoingMessage(SUBJECT, b"{}", "again")])] == [1]
    publishing.close()
