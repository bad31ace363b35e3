"""SMPP 3.4 provider: a bound transceiver session kept up in the background (reconnect with backoff,
enquire_link keepalive), submit_sm per segment with registered_delivery=1, and deliver_sm delivery receipts
turned into DeliveryReceipt for the callback given at construction.

The provider reference is the SMSC message id of the first segment. A multi-segment message is reported
delivered when every segment is, failed as soon as one segment fails. Segment ids are remembered in memory
(bounded); after a restart the receipt of a first segment still matches, later segments' receipts carry
their own id and are unknown to the notifier.

Segments are never resent blindly. Once a submit_sm was written, a missing submit_sm_resp (timeout, session
lost) leaves the message `unknown`: the SMSC may have it. So does a refusal after earlier segments were taken
(the citizen may hold part of it). An unknown message stays tracked: a late submit_sm_resp still records its
segment, and its receipts are reported under the notification id (the row has no provider id to match).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from services.notifier.adapters.providers.base import ReceiptCallback, ReceiptEmitter
from services.notifier.adapters.providers.config import SmppSettings
from services.notifier.adapters.providers.http_gateway import expand_env
from services.notifier.adapters.providers.smpp_codec import (
    ESM_CLASS_RECEIPT,
    Segment,
    encode_segments,
    message_id_variants,
    parse_smsc_receipt,
    smpp_address,
)
from services.notifier.adapters.providers.smpp_session import SmppError, SmppNotSent, SmppSession, status_text
from services.notifier.domain.sending import DeliveryReceipt, OutgoingSms, ReceiptStatus, SendResult
from services.runtime.waiting import wait_event

log = logging.getLogger(__name__)
MAX_RECONNECT_DELAY = 60.0


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


@dataclass(eq=False)
class TrackedMessage:
    expected: int  # segments
    reference: str | None = None  # the first segment's message id
    reported: str | None = None  # the reference receipts are reported under (the notification id if unknown)
    segment_ids: list[str] = field(default_factory=list)
    delivered: set[str] = field(default_factory=set)
    done: bool = False  # final receipt given, or the send failed: later receipts are dropped


class SegmentTracker:
    """Maps segment message ids to their message until every segment has a final receipt. Segment ids are
    added from the session's reader as each submit_sm_resp is decoded, so a receipt that follows at once
    still finds its message."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._messages: OrderedDict[int, TrackedMessage] = OrderedDict()
        self._owner: dict[str, TrackedMessage] = {}

    def begin(self, expected: int) -> TrackedMessage:
        message = TrackedMessage(expected)
        self._messages[id(message)] = message
        while len(self._messages) > self._capacity:
            self._forget(next(iter(self._messages.values())))
        return message

    def add(self, message: TrackedMessage, segment_id: str) -> None:
        if message.reference is None:
            message.reference = segment_id
        message.segment_ids.append(segment_id)
        self._owner[segment_id] = message

    def _forget(self, message: TrackedMessage) -> None:
        self._messages.pop(id(message), None)
        for segment_id in message.segment_ids:
            self._owner.pop(segment_id, None)

    def abandon(self, message: TrackedMessage) -> None:
        message.done = True  # kept until evicted so that its segments' receipts are recognised and dropped

    def resolve(self, segment_id: str, status: ReceiptStatus) -> tuple[str, ReceiptStatus] | None:
        """The message's final receipt, or None while other segments are still awaited."""
        for variant in message_id_variants(segment_id):
            message = self._owner.get(variant)
            if message is not None:
                break
        else:
            return segment_id, status  # not ours any more (evicted, or sent before a restart)
        if message.done or message.reference is None:
            return None
        if status is ReceiptStatus.DELIVERED:
            message.delivered.add(variant)
            if len(message.delivered) < message.expected:
                return None
        message.done = True
        self._forget(message)
        return message.reported or message.reference, status


class SmppProvider:
    def __init__(self, settings: SmppSettings, on_receipt: ReceiptCallback | None = None) -> None:
        self.name = settings.name
        self.settings = settings
        self.last_error: str | None = None
        self._receipts = ReceiptEmitter(on_receipt)
        self._segments = SegmentTracker()
        self._session: SmppSession | None = None
        self._attempted = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._window = asyncio.Semaphore(settings.window)
        self._concat_reference = random.randrange(256)
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._session is not None and not self._session.closed

    async def start(self) -> None:
        """Connects and binds in the background (also done by the first send)."""
        if self._supervisor is None and not self._closing:
            self._supervisor = asyncio.create_task(self._supervise(), name=f"smpp-{self.name}")

    async def _supervise(self) -> None:
        delay = self.settings.reconnect_delay_seconds
        password = expand_env(self.settings.password)
        while not self._closing:
            try:
                session = await SmppSession.open(self.settings, password, self._on_deliver)
            except Exception as exc:  # the supervisor must outlive any failure, or the provider stays unbound
                self.last_error = str(exc) if isinstance(exc, SmppError) else f"connect failed ({type(exc).__name__})"
                log.warning("SMPP %s: %s; retrying in %.0f s", self.name, self.last_error, delay)
                self._attempted.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY)
                continue
            delay = self.settings.reconnect_delay_seconds
            self._session, self.last_error = session, None
            self._attempted.set()
            await session.wait_closed()
            self._session, self.last_error = None, f"session ended: {session.close_reason}"
            if not self._closing:
                log.warning("SMPP %s: %s; reconnecting", self.name, session.close_reason)
                await asyncio.sleep(delay)

    async def _bound_session(self) -> SmppSession | None:
        await self.start()
        if not self._attempted.is_set():  # the first connection attempt: wait for it once
            await wait_event(self._attempted, self.settings.response_timeout_seconds)
        session = self._session
        return session if session is not None and not session.closed else None

    def _failure(self, error: str, permanent: bool = False) -> SendResult:
        return SendResult(accepted=False, error=error, permanent=permanent, provider=self.name)

    async def send(self, message: OutgoingSms) -> SendResult:
        session = await self._bound_session()
        if session is None:
            return self._failure(f"SMSC not bound: {self.last_error or 'connecting'}")
        self._concat_reference = (self._concat_reference + 1) % 256
        try:
            segments = encode_segments(message.text, message.encoding, self._concat_reference)
        except ValueError as exc:
            return self._failure(str(exc), permanent=True)
        tracked = self._segments.begin(len(segments))
        result = await self._submit_all(session, message, segments, tracked)
        if result.unknown:
            tracked.reported = message.notification_id
        elif not result.accepted:
            self._segments.abandon(tracked)
        return result

    async def _submit_all(
        self, session: SmppSession, message: OutgoingSms, segments: list[Segment], tracked: TrackedMessage
    ) -> SendResult:
        def on_response(pdu: Any) -> None:
            if pdu.status == 0:
                self._segments.add(tracked, _text(pdu.message_id) or "")

        total = len(segments)
        for number, segment in enumerate(segments, start=1):
            try:
                async with self._window:
                    response = await session.request(
                        "submit_sm",
                        on_response=on_response,
                        **self._submit_params(message, segment),
                    )
            except SmppNotSent as exc:  # never written: a definite failure unless earlier segments were taken
                if number == 1:
                    return self._failure(str(exc))
                return self._unknown(tracked, f"segment {number}/{total} not sent: {exc}", "partly_sent")
            except TimeoutError:
                timeout = self.settings.response_timeout_seconds
                error = f"segment {number}/{total}: no submit_sm_resp within {timeout:g} s"
                return self._unknown(tracked, error, "provider_timeout")
            except SmppError as exc:  # written, then the session failed: the SMSC may have it
                return self._unknown(tracked, f"segment {number}/{total}: {exc}", "connection_lost")
            if response.status != 0:
                refused = f"submit_sm refused: {status_text(response.status)}"
                if number == 1:
                    return self._failure(refused, response.status in self.settings.permanent_statuses)
                return self._unknown(tracked, f"segment {number}/{total} {refused}", "partly_sent")
        return SendResult(accepted=True, provider_reference=tracked.reference, provider=self.name)

    def _unknown(self, tracked: TrackedMessage, error: str, reason: str) -> SendResult:
        """The SMSC may hold the message (or part of it): reported unknown, never resent."""
        taken = len(tracked.segment_ids)
        return SendResult(
            accepted=False,
            provider_reference=tracked.reference,
            error=f"{error} ({taken}/{tracked.expected} segments taken)",
            provider=self.name,
            unknown=True,
            reason=reason,
        )

    def _submit_params(self, message: OutgoingSms, segment: Segment) -> dict[str, Any]:
        return {
            "service_type": "",
            "source_addr_ton": self.settings.source_addr_ton,
            "source_addr_npi": self.settings.source_addr_npi,
            "source_addr": self.settings.source_addr or message.sender or "",
            "dest_addr_ton": self.settings.dest_addr_ton,
            "dest_addr_npi": self.settings.dest_addr_npi,
            "destination_addr": smpp_address(message.to_e164),
            "esm_class": segment.esm_class,
            "protocol_id": 0,
            "priority_flag": 0,
            "schedule_delivery_time": "",
            "validity_period": "",
            "registered_delivery": 1,
            "replace_if_present_flag": 0,
            "data_coding": segment.data_coding,
            "sm_default_msg_id": 0,
            "short_message": segment.short_message,
        }

    def _on_deliver(self, pdu: Any) -> None:
        if (pdu.esm_class or 0) & 0x3C != ESM_CLASS_RECEIPT:
            return  # a mobile-originated message: not ours to handle
        receipt = parse_smsc_receipt(pdu.short_message or b"", _text(pdu.receipted_message_id), pdu.message_state)
        if receipt is None or receipt.status is None:
            return
        final = self._segments.resolve(receipt.message_id, receipt.status)
        if final is not None:
            detail = f"stat:{receipt.stat}" + (f" err:{receipt.error}" if receipt.error else "")
            self._receipts.emit(DeliveryReceipt(self.name, final[0], final[1], detail))

    async def close(self) -> None:
        self._closing = True
        if self._session is not None:
            await self._session.unbind()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        await self._receipts.drain()
