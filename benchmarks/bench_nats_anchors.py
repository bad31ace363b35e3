"""The broker's own limit, measured with plain nats-py against its own nats-server: the anchors every other row
of the table is compared with.

- publish: JetStream publishes with `Nats-Msg-Id`, pipelined (a window of requests in flight at once), messages of
  the size of one of our events;
- consume: a durable push consumer with explicit acks, every message acked.

`python -m benchmarks nats_anchors` (or `python -m benchmarks.bench_nats_anchors --messages 200000`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import nats
import orjson
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from benchmarks.bench_ingest_http import sample_event
from benchmarks.results import ANCHOR_CONSUME, ANCHOR_PUBLISH, Row, record
from services.runtime.nats.embedded import EmbeddedNats, free_port

BENCHMARK = "nats_anchors"
STREAM = "ANCHOR"


def event_payload(number: int) -> bytes:
    """One of our events as ingest stores it (the same size as the other benchmarks' messages)."""
    return orjson.dumps(sample_event(number))


async def publish_pipelined(url: str, messages: int, window: int) -> float:
    """Publishes written back to back with a reply inbox, acks counted by one wildcard subscription: no future
    per message, `window` messages in flight at most."""
    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(StreamConfig(name=STREAM, subjects=[f"{STREAM.lower()}.>"], duplicate_window=120))
    payloads = [event_payload(number) for number in range(messages)]
    inbox = client.new_inbox()
    acked = 0
    refused = 0
    window_done = asyncio.Event()
    expected = 0

    async def on_ack(reply: Msg) -> None:
        nonlocal acked, refused
        acked += 1
        refused += b'"error"' in reply.data
        if acked >= expected:
            window_done.set()

    await client.subscribe(f"{inbox}.*", cb=on_ack)
    started = time.perf_counter()
    for first in range(0, messages, window):
        expected = min(first + window, messages)
        window_done.clear()
        for number in range(first, expected):
            headers = {"Nats-Msg-Id": f"a-{number}"}
            await client.publish(f"{STREAM.lower()}.{number % 4}", payloads[number], f"{inbox}.{number}", headers)
        await asyncio.wait_for(window_done.wait(), timeout=60)
    elapsed = time.perf_counter() - started
    await client.close()
    if refused:
        raise RuntimeError(f"JetStream refused {refused} publishes")
    return messages / elapsed


async def consume_with_ack(url: str, messages: int) -> float:
    client = await nats.connect(url)
    js = client.jetstream()
    done = asyncio.Event()
    received = 0

    async def on_message(message: Msg) -> None:
        nonlocal received
        await message.ack()
        received += 1
        if received >= messages:
            done.set()

    started = time.perf_counter()
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=20_000)
    subscription = await js.subscribe(
        f"{STREAM.lower()}.>",
        durable="anchor",
        cb=on_message,
        manual_ack=True,
        config=config,
        pending_msgs_limit=100_000,
    )
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - started
    await subscription.unsubscribe()
    await client.close()
    return messages / elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_nats_anchors", description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--window", type=int, default=1000, help="Publishes in flight at once")
    options = parser.parse_args(argv)
    size = len(event_payload(1))
    with tempfile.TemporaryDirectory(prefix="bench-anchors-") as directory:
        server = EmbeddedNats(free_port(), Path(directory) / "nats")
        server.start()
        try:
            published = asyncio.run(publish_pipelined(server.url, options.messages, options.window))
            consumed = asyncio.run(consume_with_ack(server.url, options.messages))
        finally:
            server.stop()
    note = f"nats-py, {size} B messages"
    label = "raw JetStream publish, pipelined, Nats-Msg-Id"
    record(Row(ANCHOR_PUBLISH, BENCHMARK, label, published, "msg/s", note=note))
    record(Row(ANCHOR_CONSUME, BENCHMARK, "raw JetStream push consume, explicit ack", consumed, "msg/s", note=note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
