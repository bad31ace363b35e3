"""Pipelined publishing writes its own HPUB commands: what JetStream stores must be what nats-py would have sent."""

from __future__ import annotations

import pytest
from nats.aio.client import Client

from services.runtime.nats.publishing import OutgoingMessage, PublishFailed, publish_all

SUBJECT = "dvc.events.dossier.accepted.0123456789abcdef"


async def test_stored_messages_keep_payload_headers_and_order_when_published_pipelined(client: Client) -> None:
    js = client.jetstream()
    messages = [
        OutgoingMessage(SUBJECT, f'{{"n":{number}}}'.encode(), f"id-{number}", {"Dvc-Origin": f" o{number} "})
        for number in range(50)
    ]

    acks = await publish_all(js, messages, expected_stream="DVC_EVENTS")

    assert [ack.seq for ack in acks] == list(range(1, 51))
    stored = await js.get_msg("DVC_EVENTS", 7)
    assert stored.data == b'{"n":6}'
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == "id-6"
    assert stored.headers["Dvc-Origin"] == "o6"


async def test_second_copy_is_a_duplicate_when_its_message_id_was_stored(client: Client) -> None:
    js = client.jetstream()
    message = OutgoingMessage(SUBJECT, b"{}", "same-id")

    first, second = await publish_all(js, [message, message])

    assert (first.duplicate, second.duplicate) == (None, True)
    assert second.seq == first.seq


async def test_header_value_line_breaks_become_spaces_when_published(client: Client) -> None:
    js = client.jetstream()

    (ack,) = await publish_all(js, [OutgoingMessage(SUBJECT, b"{}", "crlf", {"Dvc-Error": "one\r\ntwo"})])

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
    client: Client, message: OutgoingMessage
) -> None:
    js = client.jetstream()

    with pytest.raises(PublishFailed):
        await publish_all(js, [message])

    assert (await js.stream_info("DVC_EVENTS")).state.messages == 0


async def test_no_ack_is_awaited_when_there_is_nothing_to_publish(client: Client) -> None:
    assert await publish_all(client.jetstream(), []) == []
