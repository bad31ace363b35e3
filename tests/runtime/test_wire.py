"""The lean pull connection (`services.runtime.nats.wire`): protocol parsing, and pulls against a real nats-server
giving the same messages as nats-py."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.runtime.nats.consuming import BatchProcessor
from services.runtime.nats.embedded import EmbeddedNats, find_nats_server, free_port, port_open
from services.runtime.nats.pulling import PullConsumer, open_nats_request, open_wire_request
from services.runtime.nats.streams import apply_streams
from services.runtime.nats.subscribing import DurableConsumer
from services.runtime.nats.wire import WireConnection, WireError, parse_headers
from services.runtime.nats.wire import supported as wire_supported


class CapturingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return False


def _connected() -> tuple[WireConnection, CapturingTransport, list[tuple[Msg | None, str | None]]]:
    connection = WireConnection()
    transport = CapturingTransport()
    connection.connection_made(transport)
    delivered: list[tuple[Msg | None, str | None]] = []
    connection.subscribe("_INBOX.x", lambda message, status: delivered.append((message, status)))
    return connection, transport, delivered


async def test_messages_are_delivered_whole_when_they_arrive_split_across_reads() -> None:
    connection, transport, delivered = _connected()
    headers = b"NATS/1.0\r\nNats-Msg-Id: urn:a:1\r\nCe-Type: x\r\n\r\n"
    frames = (
        b"HMSG dvc.events.dossier.accepted 1 $JS.ACK.DVC_EVENTS.c.1.42.7.1700000000000000000.3 "
        + f"{len(headers)} {len(headers) + 5}\r\n".encode()
        + headers
        + b"hello\r\nPING\r\nMSG other 1 3\r\nabc\r\nHMSG _INBOX.x 1 28 28\r\nNATS/1.0 404 No Messages\r\n\r\n\r\n"
    )
    for index in range(len(frames)):  # one byte per read: the worst split there is
        connection.data_received(frames[index : index + 1])

    message, status = delivered[0]
    assert status is None
    assert message is not None
    assert (message.subject, message.data) == ("dvc.events.dossier.accepted", b"hello")
    assert message.headers == {"Nats-Msg-Id": "urn:a:1", "Ce-Type": "x"}
    assert (message.metadata.sequence.stream, message.metadata.num_delivered, message.metadata.stream) == (
        42,
        1,
        "DVC_EVENTS",
    )
    assert delivered[1][0] is not None
    assert (delivered[1][0].data, delivered[1][0].reply) == (b"abc", "")
    assert delivered[2] == (None, "404")
    assert b"PONG\r\n" in transport.written


async def test_acks_of_a_batch_leave_in_one_write_when_they_are_sent_in_one_loop_turn() -> None:
    connection, transport, _ = _connected()
    transport.written = b""
    messages = [Msg(connection, "s", f"$JS.ACK.S.c.1.{n}.{n}.1.0", b"x") for n in range(1, 4)]  # type: ignore[arg-type]
    for message in messages:
        await message.ack()
    assert transport.written == b""
    await asyncio.sleep(0)

    assert transport.written == b"".join(f"PUB $JS.ACK.S.c.1.{n}.{n}.1.0 0\r\n\r\n".encode() for n in range(1, 4))


def test_header_block_without_status_is_parsed_into_names_and_values() -> None:
    assert parse_headers(b"NATS/1.0\r\nA: 1\r\nB:two words \r\n\r\n") == {"A": "1", "B": "two words"}


async def test_lean_pull_gives_the_same_messages_as_nats_py_when_both_read_the_same_stream(
    private_nats: EmbeddedNats,
) -> None:
    client = await nats.connect(private_nats.url)
    js = client.jetstream()
    await apply_streams(js)
    for number in range(30):
        await js.publish("dvc.events.test", f"é-{number}".encode(), headers={"Nats-Msg-Id": f"id-{number}", "K": "v"})
    pulled = {}
    for name, opener in (("wire", open_wire_request), ("nats", open_nats_request)):
        await js.add_consumer("DVC_EVENTS", durable_name=name, ack_policy="explicit")  # type: ignore[arg-type]
        request = await opener(client, "DVC_EVENTS", name)
        messages = await request.next(20, wait=None) + await request.next(20, wait=None)
        pulled[name] = [(m.subject, m.data, m.headers, m.metadata.sequence.stream) for m in messages]
        for message in messages:
            await message.ack()
        for _ in range(50):  # acks and this query travel on different connections
            info = await js.consumer_info("DVC_EVENTS", name)
            if (info.num_ack_pending, info.num_pending) == (0, 0):
                break
            await asyncio.sleep(0.05)
        assert (info.num_ack_pending, info.num_pending) == (0, 0)
        await request.close()

    assert len(pulled["wire"]) == 30
    assert pulled["wire"] == pulled["nats"]
    await client.close()


async def test_pull_raises_connection_error_when_the_server_stops_during_a_long_poll(tmp_path: Path) -> None:
    server = EmbeddedNats(free_port(), tmp_path / "nats")
    server.start()
    client = await nats.connect(server.url, max_reconnect_attempts=0)
    await apply_streams(client.jetstream())
    await client.jetstream().add_consumer("DVC_EVENTS", durable_name="gone", ack_policy="explicit")  # type: ignore[arg-type]
    request = await open_wire_request(client, "DVC_EVENTS", "gone")
    waiting = asyncio.create_task(request.next(10, wait=30))
    await asyncio.sleep(0.3)
    server.kill()

    with pytest.raises(ConnectionError):
        async with asyncio.timeout(5):  # well before the 30 s poll would end
            await waiting
    with contextlib.suppress(asyncio.CancelledError):  # nats-py, closing after its server vanished
        await client.close()


@contextlib.contextmanager
def _nats_server(tmp_path: Path, config: str, url_auth: str = "") -> Iterator[str]:
    """A nats-server with JetStream and extra configuration `config` (nats-server's configuration syntax)."""
    port = free_port()
    path = tmp_path / "nats.conf"
    path.write_text(f'{config}\njetstream {{ store_dir: "{tmp_path / "js"}" }}\n')
    process = subprocess.Popen([find_nats_server(), "-a", "127.0.0.1", "-p", str(port), "-c", str(path)])
    try:
        while not port_open("127.0.0.1", port):
            assert process.poll() is None
        yield f"nats://{url_auth}127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def password_nats(tmp_path: Path) -> Iterator[str]:
    with _nats_server(tmp_path, 'authorization { user: pulse, password: "s3cret" }', "pulse:s3cret@") as url:
        yield url


async def test_lean_connection_logs_in_with_the_url_credentials_when_the_server_requires_them(
    password_nats: str,
) -> None:
    client = await nats.connect(password_nats)
    await apply_streams(client.jetstream())
    await client.jetstream().publish("dvc.events.test", b"secret")
    await client.jetstream().add_consumer("DVC_EVENTS", durable_name="auth", ack_policy="explicit")  # type: ignore[arg-type]
    assert wire_supported(client)
    request = await open_wire_request(client, "DVC_EVENTS", "auth")

    assert [message.data for message in await request.next(5, wait=None)] == [b"secret"]
    await request.close()
    await client.close()


@pytest.fixture
def one_connection_nats(tmp_path: Path) -> Iterator[str]:
    with _nats_server(tmp_path, "max_connections: 1") as url:
        yield url


async def test_consumer_pulls_through_nats_py_when_the_server_refuses_a_second_connection(
    one_connection_nats: str,
) -> None:
    client = await nats.connect(one_connection_nats)
    js = client.jetstream()
    await apply_streams(js)
    await js.publish("dvc.events.test", b"still-flows")
    applied: list[bytes] = []
    arrived = asyncio.Event()

    async def apply(items: Sequence[bytes]) -> None:
        applied.extend(items)
        arrived.set()

    def processor(connected: Client) -> BatchProcessor[bytes]:
        return BatchProcessor("svc", "fallback", connected.jetstream(), lambda message: message.data, apply, 3)

    consumer = DurableConsumer("svc", "fallback", "DVC_EVENTS", "dvc.events.>", 10, 0.2, 3, 30)
    pulling = PullConsumer(consumer, lambda: client, processor)
    task = asyncio.create_task(pulling.run())
    async with asyncio.timeout(10):
        await arrived.wait()

    assert applied == [b"still-flows"]
    assert pulling.transport == "nats-py"
    task.cancel()
    await client.close()


@pytest.fixture
def own_inbox_nats(tmp_path: Path) -> Iterator[str]:
    user = '{user: pulse, password: s3cret, permissions: {subscribe: {allow: ["_DVC_INBOX.>"]}, publish: ">"}}'
    with _nats_server(tmp_path, f"authorization {{ users: [{user}] }}", "pulse:s3cret@") as url:
        yield url


async def test_lean_pull_uses_the_client_inbox_prefix_when_the_server_allows_only_that_prefix(
    own_inbox_nats: str,
) -> None:
    client = await nats.connect(own_inbox_nats, inbox_prefix="_DVC_INBOX")
    await apply_streams(client.jetstream())
    await client.jetstream().publish("dvc.events.test", b"allowed")
    await client.jetstream().add_consumer("DVC_EVENTS", durable_name="inbox", ack_policy="explicit")  # type: ignore[arg-type]
    request = await open_wire_request(client, "DVC_EVENTS", "inbox")

    assert request.inbox.startswith("_DVC_INBOX.")
    assert [message.data for message in await request.next(5, wait=None)] == [b"allowed"]
    await request.close()
    await client.close()


async def test_lean_pull_is_refused_at_once_when_the_server_forbids_its_subscription(own_inbox_nats: str) -> None:
    client = await nats.connect(own_inbox_nats, inbox_prefix="_DVC_INBOX")
    await apply_streams(client.jetstream())
    await client.jetstream().add_consumer("DVC_EVENTS", durable_name="forbidden", ack_policy="explicit")  # type: ignore[arg-type]
    connection = await WireConnection.open(client, name="forbidden")
    connection.subscribe("_INBOX.not-allowed", lambda message, status: None)

    with pytest.raises(WireError, match="Permissions Violation"):
        await connection.ping()
    connection.close()
    await client.close()
