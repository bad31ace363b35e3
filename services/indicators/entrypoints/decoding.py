"""Raw DVC_EVENTS message -> what the indicators' use cases take. Apart from the consumer (`subscribers`) so that
the rebuild decodes without importing the broker framework (~8 MB of its resident memory)."""

from __future__ import annotations

from nats.aio.msg import Msg
from pydantic import ValidationError

from services.contracts.events import parse_event
from services.indicators.domain.events import to_projected
from services.indicators.service_layer.messages import Incoming
from services.runtime.nats.consuming import InvalidMessage
from services.runtime.nats.pulling import stream_sequence


def decode(message: Msg) -> Incoming:
    """Raw JetStream message -> Incoming; InvalidMessage (-> DVC_DLQ) for anything malformed. Any other error
    (OverflowError from a date at the edge of the calendar) dead-letters the message as well (BatchProcessor)."""
    try:
        event = parse_event(message.data)
    except (ValidationError, ValueError) as error:
        raise InvalidMessage(str(error)[:900]) from error
    return Incoming(event.source, event.id, to_projected(event), stream_sequence(message))
