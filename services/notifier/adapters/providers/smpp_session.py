"""One bound SMPP 3.4 transceiver session over asyncio streams; PDUs encoded and decoded by smpplib.

Requests are pipelined (matched to responses by sequence number); the SMSC's deliver_sm and enquire_link
are answered here; enquire_link is sent every `enquire_link_seconds` and an unanswered one ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from smpplib import consts, smpp
from smpplib.command_codes import get_command_name
from smpplib.exceptions import UnknownCommandError

from services.notifier.adapters.providers.config import SmppSettings

log = logging.getLogger(__name__)

INTERFACE_VERSION = 0x34
MAX_PDU_LENGTH = 64 * 1024
MAX_LATE_HOOKS = 10_000
DeliverHandler = Callable[[Any], None]
ResponseHook = Callable[[Any], None]


class SmppError(Exception):
    """The session failed (closed, bind refused, malformed PDU), possibly after the request was written."""


class SmppNotSent(SmppError):
    """The request was never written (the session was already closed): the SMSC cannot have it."""


def status_text(status: int) -> str:
    return f"0x{status:08X} {consts.DESCRIPTIONS.get(status, 'unknown status')}"


class _Sequences:
    """What smpplib's PDU classes need from a client: sequence numbers."""

    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence


class SmppSession:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        settings: SmppSettings,
        on_deliver: DeliverHandler,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._settings = settings
        self._on_deliver = on_deliver
        self._sequences = _Sequences()
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._hooks: dict[int, ResponseHook] = {}
        # hooks of requests that timed out: a late response still tells which segment the SMSC took
        self._late: OrderedDict[int, ResponseHook] = OrderedDict()
        self._closed = asyncio.Event()
        self.close_reason = ""
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def open(cls, settings: SmppSettings, password: str, on_deliver: DeliverHandler) -> SmppSession:
        async with asyncio.timeout(settings.response_timeout_seconds):
            reader, writer = await asyncio.open_connection(settings.host, settings.port)
        session = cls(reader, writer, settings, on_deliver)
        session._tasks.append(asyncio.create_task(session._read_loop()))
        try:
            response = await session.request(
                "bind_transceiver",
                system_id=settings.system_id,
                password=password,
                system_type=settings.system_type,
                interface_version=INTERFACE_VERSION,
                addr_ton=0,
                addr_npi=0,
                address_range="",
            )
        except BaseException:
            await session.abort("bind failed")
            raise
        if response.status != consts.SMPP_ESME_ROK:
            await session.abort("bind refused")
            raise SmppError(f"bind_transceiver refused: {status_text(response.status)}")
        session._tasks.append(asyncio.create_task(session._keepalive()))
        return session

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def request(self, command: str, on_response: ResponseHook | None = None, **params: Any) -> Any:
        """Sends a request PDU and returns its response PDU (raises TimeoutError, SmppError).

        `on_response` runs in the reader as soon as the response is decoded, before any later PDU (such as
        the deliver_sm receipt an SMSC may send right after a submit_sm_resp) is handled."""
        if self.closed:
            raise SmppNotSent(f"session closed: {self.close_reason}")
        pdu = smpp.make_pdu(command, client=self._sequences, **params)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[pdu.sequence] = future
        if on_response is not None:
            self._hooks[pdu.sequence] = on_response
        try:
            self._writer.write(pdu.generate())
            await self._writer.drain()
            async with asyncio.timeout(self._settings.response_timeout_seconds):
                return await future
        except TimeoutError:
            if on_response is not None:
                self._late[pdu.sequence] = on_response
                while len(self._late) > MAX_LATE_HOOKS:
                    self._late.popitem(last=False)
            raise
        except (OSError, ConnectionError) as exc:
            raise SmppError(f"write failed: {type(exc).__name__}") from exc
        finally:
            self._pending.pop(pdu.sequence, None)
            self._hooks.pop(pdu.sequence, None)

    def _respond(self, command: str, sequence: int, status: int = consts.SMPP_ESME_ROK) -> None:
        pdu = smpp.make_pdu(command, client=self._sequences, status=status)
        pdu.sequence = sequence
        if not self.closed:
            self._writer.write(pdu.generate())

    async def _read_loop(self) -> None:
        reason = "connection closed by the SMSC"
        try:
            while True:
                header = await self._reader.readexactly(4)
                length = struct.unpack(">L", header)[0]
                if not 16 <= length <= MAX_PDU_LENGTH:
                    reason = f"malformed PDU length {length}"
                    break
                raw = header + await self._reader.readexactly(length - 4)
                if self._dispatch(raw):
                    reason = "unbound by the SMSC"
                    break
        except (asyncio.IncompleteReadError, OSError) as exc:
            reason = f"connection lost ({type(exc).__name__})"
        self._shutdown(reason)

    def _dispatch(self, raw: bytes) -> bool:
        """Handles one PDU; True when the SMSC unbound."""
        command_id, _, sequence = struct.unpack(">LLL", raw[4:16])
        try:
            name = get_command_name(command_id)
            pdu = smpp.parse_pdu(raw, client=self._sequences, allow_unknown_opt_params=True)
        except (UnknownCommandError, struct.error, ValueError, KeyError) as exc:
            log.warning("SMPP: cannot decode PDU 0x%08X (%s)", command_id, type(exc).__name__)
            if not command_id & 0x80000000:
                self._respond("generic_nack", sequence, consts.SMPP_ESME_RINVCMDID)
            return False
        if command_id & 0x80000000:  # a response (generic_nack included)
            future = self._pending.get(sequence)
            hook = self._hooks.pop(sequence, None)
            if future is not None and not future.done():
                if hook is not None:
                    hook(pdu)
                future.set_result(pdu)
            elif (late := self._late.pop(sequence, None)) is not None:
                late(pdu)
        elif name == "deliver_sm":
            self._respond("deliver_sm_resp", sequence)
            try:
                self._on_deliver(pdu)
            except Exception:
                log.exception("SMPP: deliver_sm handler failed")
        elif name == "enquire_link":
            self._respond("enquire_link_resp", sequence)
        elif name == "unbind":
            self._respond("unbind_resp", sequence)
            return True
        else:
            self._respond("generic_nack", sequence, consts.SMPP_ESME_RINVCMDID)
        return False

    async def _keepalive(self) -> None:
        while not self.closed:
            await asyncio.sleep(self._settings.enquire_link_seconds)
            try:
                await self.request("enquire_link")
            except (TimeoutError, SmppError):
                self._shutdown("enquire_link unanswered")
                return

    def _shutdown(self, reason: str) -> None:
        if self.closed:
            return
        self.close_reason = reason
        self._closed.set()
        self._writer.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SmppError(f"session closed: {reason}"))
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()

    async def wait_closed(self) -> None:
        await self._closed.wait()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(OSError, ConnectionError):
            await self._writer.wait_closed()

    async def abort(self, reason: str) -> None:
        self._shutdown(reason)
        await self.wait_closed()

    async def unbind(self) -> None:
        """Polite close: unbind, wait briefly for unbind_resp, then close."""
        if not self.closed:
            with contextlib.suppress(TimeoutError, SmppError):
                await self.request("unbind")
        await self.abort("unbound")
