"""A minimal SMSC for tests: an asyncio SMPP 3.4 server with its own PDU codec (independent of smpplib, so
the tests check the bytes against the specification, not against the library that wrote them).

Speaks bind_transceiver(_resp), submit_sm(_resp), deliver_sm(_resp) with a delivery receipt,
enquire_link(_resp), unbind(_resp), generic_nack. Records every submit_sm and decodes its text.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000

# GSM 03.38 default alphabet and extension table (3GPP TS 23.038 §6.2.1)
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
assert len(GSM7_BASIC) == 128


def decode_gsm7_unpacked(data: bytes) -> str:
    chars, escape = [], False
    for octet in data:
        if octet > 0x7F:
            raise ValueError(f"octet 0x{octet:02X} is not a septet")
        if escape:
            chars.append(GSM7_EXTENSION[octet])
            escape = False
        elif octet == 0x1B:
            escape = True
        else:
            chars.append(GSM7_BASIC[octet])
    if escape:
        raise ValueError("segment ends inside an escape sequence")
    return "".join(chars)


def _cstring(body: bytes, pos: int) -> tuple[str, int]:
    end = body.index(b"\x00", pos)
    return body[pos:end].decode("latin-1"), end + 1


def _pdu(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">LLLL", 16 + len(body), command_id, status, sequence) + body


@dataclass
class Submitted:
    source_addr: str
    source_ton: int
    destination_addr: str
    dest_ton: int
    dest_npi: int
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    message_id: str

    @property
    def udh(self) -> bytes:
        return self.short_message[: self.short_message[0] + 1] if self.esm_class & 0x40 else b""

    @property
    def user_data(self) -> bytes:
        return self.short_message[len(self.udh) :]

    @property
    def text(self) -> str:
        if self.data_coding == 0x08:
            return self.user_data.decode("utf-16-be")
        assert self.data_coding == 0x00, self.data_coding
        return decode_gsm7_unpacked(self.user_data)


@dataclass
class Smsc:
    system_id: str = "lamthao"
    password: str = "secret"
    port: int = 0
    submitted: list[Submitted] = field(default_factory=list)
    binds: int = 0
    enquire_links: int = 0
    receipt_acks: int = 0
    stat_for: dict[str, str] = field(default_factory=dict)  # destination -> receipt stat (default DELIVRD)
    status_for: dict[str, int] = field(default_factory=dict)  # destination -> submit_sm_resp command_status
    answer_submits: bool = True
    answer_limit: int | None = None  # answer this many submit_sm, then stay silent (a stalled SMSC)
    response_delay_seconds: float = 0.0  # answer submit_sm (and send the receipt) this late
    submits_received: int = 0  # every submit_sm read, answered or not
    refuse_after: int | None = None  # refuse (throttled, 0x58) every submit_sm after this many
    receipt_id_format: str = "hex"  # or "decimal": the receipt quotes the id in decimal
    receipt_tlvs: bool = False  # add receipted_message_id and message_state TLVs
    unbinds: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _late: set[asyncio.Task[None]] = field(default_factory=set)
    _next_id: int = 0x1A2B0000

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._late):
            task.cancel()
        self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.close()

    def messages(self) -> dict[str, str]:
        """Reassembled texts by destination (segments joined in UDH order)."""
        joined: dict[str, list[tuple[int, str]]] = {}
        for part in self.submitted:
            order = part.udh[5] if part.udh else 1
            joined.setdefault(part.destination_addr, []).append((order, part.text))
        return {dest: "".join(text for _, text in sorted(parts)) for dest, parts in joined.items()}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        bound = False
        sequence = 0x40000000
        try:
            while True:
                header = await reader.readexactly(16)
                length, command_id, _, seq = struct.unpack(">LLLL", header)
                body = await reader.readexactly(length - 16)
                if command_id == BIND_TRANSCEIVER:
                    system_id, pos = _cstring(body, 0)
                    password, pos = _cstring(body, pos)
                    ok = (system_id, password) == (self.system_id, self.password)
                    bound = ok
                    self.binds += ok
                    writer.write(_pdu(BIND_TRANSCEIVER_RESP, seq, b"SMSC\x00", 0 if ok else 0x0E))
                elif command_id == SUBMIT_SM and bound:
                    part = self._parse_submit(body)
                    status = self.status_for.get(part.destination_addr, 0)
                    self.submits_received += 1
                    if self.refuse_after is not None and self.submits_received > self.refuse_after:
                        status = 0x58
                    if not self.answer_submits or (
                        self.answer_limit is not None and self.submits_received > self.answer_limit
                    ):
                        continue
                    if self.response_delay_seconds:
                        sequence += 1
                        self._answer_later(writer, seq, part, sequence)
                        continue
                    if status:
                        writer.write(_pdu(SUBMIT_SM_RESP, seq, b"", status))
                        continue
                    self.submitted.append(part)
                    writer.write(_pdu(SUBMIT_SM_RESP, seq, part.message_id.encode() + b"\x00"))
                    if part.registered_delivery & 0x01:
                        sequence += 1
                        writer.write(self._receipt(part, sequence))
                elif command_id == ENQUIRE_LINK:
                    self.enquire_links += 1
                    writer.write(_pdu(ENQUIRE_LINK_RESP, seq))
                elif command_id == DELIVER_SM_RESP:
                    self.receipt_acks += 1
                elif command_id == UNBIND:
                    self.unbinds += 1
                    writer.write(_pdu(UNBIND_RESP, seq))
                    await writer.drain()
                    break
                else:
                    writer.write(_pdu(GENERIC_NACK, seq, b"", 0x04 if command_id == SUBMIT_SM else 0x03))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _answer_later(self, writer: asyncio.StreamWriter, seq: int, part: Submitted, sequence: int) -> None:
        async def answer() -> None:
            await asyncio.sleep(self.response_delay_seconds)
            self.submitted.append(part)
            writer.write(_pdu(SUBMIT_SM_RESP, seq, part.message_id.encode() + b"\x00"))
            writer.write(self._receipt(part, sequence))
            with contextlib.suppress(ConnectionError):
                await writer.drain()

        task = asyncio.get_running_loop().create_task(answer())
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    def _parse_submit(self, body: bytes) -> Submitted:
        _, pos = _cstring(body, 0)  # service_type
        source_ton, _source_npi = body[pos], body[pos + 1]
        source_addr, pos = _cstring(body, pos + 2)
        dest_ton, dest_npi = body[pos], body[pos + 1]
        destination_addr, pos = _cstring(body, pos + 2)
        esm_class = body[pos]
        pos += 3  # esm_class, protocol_id, priority_flag
        _, pos = _cstring(body, pos)  # schedule_delivery_time
        _, pos = _cstring(body, pos)  # validity_period
        registered_delivery, data_coding, sm_length = body[pos], body[pos + 2], body[pos + 4]
        short_message = body[pos + 5 : pos + 5 + sm_length]
        self._next_id += 1
        return Submitted(
            source_addr, source_ton, destination_addr, dest_ton, dest_npi, esm_class,
            registered_delivery, data_coding, short_message, format(self._next_id, "x"),
        )  # fmt: skip

    def _receipt(self, part: Submitted, sequence: int) -> bytes:
        stat = self.stat_for.get(part.destination_addr, "DELIVRD")
        quoted = part.message_id if self.receipt_id_format == "hex" else str(int(part.message_id, 16))
        text = f"id:{quoted} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} submit date:2603011200 "
        text += f"done date:2603011201 stat:{stat} err:{'000' if stat == 'DELIVRD' else '001'} text:"
        short_message = text.encode("ascii")
        body = b"\x00"  # service_type
        body += bytes([part.dest_ton, part.dest_npi]) + part.destination_addr.encode() + b"\x00"
        body += bytes([5, 0]) + part.source_addr.encode() + b"\x00"
        body += bytes([0x04, 0, 0]) + b"\x00\x00" + bytes([0, 0, 0, 0, len(short_message)]) + short_message
        if self.receipt_tlvs:
            receipted = part.message_id.encode() + b"\x00"
            body += struct.pack(">HH", 0x001E, len(receipted)) + receipted
            state = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8}.get(stat, 7)
            body += struct.pack(">HHB", 0x0427, 1, state)
        return _pdu(DELIVER_SM, sequence, body)
