"""Read a stream range in order, fast, for the rebuild (the live consumer stays on FastStream).

nats-py's `fetch` awaits each message of a batch (~50 us a message here); this reader sends the same
JetStream pull request itself and collects the batch in a subscription callback, on an ephemeral
consumer without acks. Memory stays bounded: the server sends only what each request asks for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

_END_OF_REQUEST = {"404", "408", "409"}  # no messages / request expired / consumer gone


async def read_range(
    connection: Client, stream: str, subjects: str, first: int, last: int, batch: int, timeout: float = 5.0
) -> AsyncGenerator[list[Msg], None]:
    """Batches of the messages with stream sequence in [first, last], in order."""
    if last < first:
        return
    js = connection.jetstream()
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=first,
        filter_subject=subjects,
        inactive_threshold=120.0,
        max_waiting=1,
    )
    consumer = (await js.add_consumer(stream, config=config)).name
    inbox = connection.new_inbox()
    received: list[Msg] = []
    done = asyncio.Event()
    wanted = 0

    async def collect(message: Msg) -> None:
        status = (message.headers or {}).get("Status")
        if status is None:
            received.append(message)
            if len(received) >= wanted:
                done.set()
        elif status in _END_OF_REQUEST:
            done.set()

    subscription = await connection.subscribe(inbox, cb=collect)
    try:
        position = first
        while position <= last:
            wanted = min(batch, last - position + 1)
            received.clear()
            done.clear()
            request = {"batch": wanted, "expires": int(timeout * 1_000_000_000)}
            await connection.publish(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}", orjson.dumps(request), inbox)
            await asyncio.wait_for(done.wait(), timeout + 5.0)
            if not received:
                return
            messages = list(received)
            tail = messages[-1].metadata.sequence
            position = (tail.stream if tail is not None else last) + 1
            yield messages
    finally:
        await subscription.unsubscribe()
        with contextlib.suppress(Exception):  # an ephemeral consumer also expires after inactive_threshold
            await js.delete_consumer(stream, consumer)
