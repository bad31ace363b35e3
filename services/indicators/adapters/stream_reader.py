"""Read a stream range in order, fast, for the rebuild: the live consumer's pull requests
(`services.runtime.nats.pulling`, over the lean connection when it can) on an ephemeral consumer without acks.
Memory stays bounded: the server sends only what each request asks for.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.runtime.nats.pulling import open_request


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
    request = await open_request(connection, stream, consumer)
    try:
        position = first
        while position <= last:
            messages = await request.next(min(batch, last - position + 1), wait=timeout)
            if not messages:
                return
            tail = messages[-1].metadata.sequence
            position = (tail.stream if tail is not None else last) + 1
            yield messages
    finally:
        await request.close()
        with contextlib.suppress(Exception):  # an ephemeral consumer also expires after inactive_threshold
            await js.delete_consumer(stream, consumer)
