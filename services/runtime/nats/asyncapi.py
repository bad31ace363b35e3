"""The AsyncAPI document of a service's NATS interface. Consumers pull with our own loop (`subscribing`), not
through FastStream subscribers, so they are described on a broker that is never started: one subscriber per
consumer, with its subject, stream, durable name and description."""

from __future__ import annotations

from collections.abc import Sequence

from faststream import Context
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from faststream.specification import AsyncAPI

from services.runtime.nats.batch_consumer import BatchConsumer


async def _described_only(message: NatsBatchMessage = Context("message")) -> None:
    """Never called: the documentation broker does not start."""


def specification(title: str, broker: NatsBroker, consumers: Sequence[BatchConsumer]) -> AsyncAPI:
    """The service's own FastStream subscribers (ingest's request/reply ingress) are on `broker`; the pull
    consumers, which FastStream does not run, are described on a broker of their own."""
    if not consumers:
        return AsyncAPI(broker, title=title, version="1.0")
    documented = NatsBroker()
    for consumer in consumers:
        durable = consumer.consumer
        documented.subscriber(
            durable.subject or ", ".join(durable.filter_subjects),
            stream=JStream(durable.stream, declare=False),
            durable=durable.durable,
            pull_sub=PullSub(batch_size=durable.batch_size, timeout=durable.batch_timeout, batch=True),
            title=f"{durable.service}/{durable.stream}/{durable.durable}",
            description=durable.description,
        )(_described_only)
    return AsyncAPI(documented, title=title, version="1.0")
