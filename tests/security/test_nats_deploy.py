"""deploy/nats/ run by a real nats-server: TLS for clients (plaintext and anonymous refused), the users of the
permissions table, JetStream encrypted at rest, and a three-node cluster whose routes use mutual TLS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest
from nats.errors import Error as NatsError
from nats.errors import NoServersError

from services.contracts.nats_users import ADMIN
from services.runtime.nats.embedded import free_port
from services.runtime.nats.pulling import open_request
from services.runtime.nats.streams import apply_streams
from tests.security.certificates import CertificateAuthority
from tests.security.deployed import DeployedNode, auth, copy_config, deployed_environment

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def authority(tmp_path: Path) -> CertificateAuthority:
    authority = CertificateAuthority(tmp_path / "tls")
    authority.issue("server")
    authority.issue("route")
    return authority


@pytest.fixture
def single(tmp_path: Path, authority: CertificateAuthority) -> Iterator[DeployedNode]:
    config = copy_config("server.conf", tmp_path / "conf", authority.directory, tmp_path / "store")
    node = DeployedNode(config, deployed_environment(tmp_path / "secrets"), tmp_path / "nats.log")
    node.start()
    yield node
    node.stop()


async def test_deployed_server_refuses_plaintext_and_anonymous_clients_when_tls_and_users_are_on(
    single: DeployedNode, authority: CertificateAuthority
) -> None:
    plain = f"nats://127.0.0.1:{single.port}"
    with pytest.raises((NoServersError, NatsError, OSError)):
        await nats.connect(plain, connect_timeout=2, allow_reconnect=False)
    anonymous_tls = auth(single.env, authority, ADMIN).tls_context()
    with pytest.raises((NoServersError, NatsError, OSError)):
        await nats.connect(single.url, tls=anonymous_tls, connect_timeout=2, allow_reconnect=False)


async def test_deployed_server_serves_each_user_over_tls_when_it_has_the_ca(
    single: DeployedNode, authority: CertificateAuthority, tmp_path: Path
) -> None:
    admin = await nats.connect(single.url, **auth(single.env, authority, ADMIN).connect_options())
    ingest = await nats.connect(single.url, **auth(single.env, authority, "ingest").connect_options())
    indicators = await nats.connect(single.url, **auth(single.env, authority, "indicators").connect_options())
    try:
        await apply_streams(admin.jetstream())
        ack = await ingest.jetstream().publish(
            "dvc.events.dossier.accepted", b"0912345678", headers={"Nats-Msg-Id": "1"}
        )
        assert ack.stream == "DVC_EVENTS"
        await admin.jetstream().add_consumer("DVC_EVENTS", durable_name="indicators", filter_subject="dvc.events.>")
        request = await open_request(indicators, "DVC_EVENTS", "indicators")  # TLS: the lean reader steps aside
        try:
            assert request.transport == "nats-py"
            assert [message.data for message in await request.next(1, wait=2.0)] == [b"0912345678"]
        finally:
            await request.close()
    finally:
        for client in (admin, ingest, indicators):
            await client.close()
    stored = b"".join(path.read_bytes() for path in (tmp_path / "store").rglob("*") if path.is_file())
    assert b"0912345678" not in stored  # encrypted at rest


async def test_cluster_forms_over_mutual_tls_routes_when_started_from_the_deployed_config(
    tmp_path: Path, authority: CertificateAuthority
) -> None:
    env = deployed_environment(tmp_path / "secrets")
    routes = [free_port() for _ in range(3)]
    urls = ",".join(f"nats://127.0.0.1:{port}" for port in routes)
    nodes = []
    for index, route in enumerate(routes, start=1):
        config = copy_config(
            "cluster.conf", tmp_path / f"conf-{index}", authority.directory, tmp_path / f"store-{index}"
        )
        args = ["--name", f"nats-{index}", "--cluster", f"nats://127.0.0.1:{route}", "--routes", urls]
        nodes.append(DeployedNode(config, env, tmp_path / f"nats-{index}.log", args))
    try:
        for node in nodes:
            node.start()
        admin = await nats.connect(nodes[0].url, **auth(env, authority, ADMIN).connect_options())
        try:
            changes = await _apply_when_cluster_ready(admin.jetstream())
            assert [change.action for change in changes] == ["created"] * 4
            info = await admin.jetstream().stream_info("DVC_EVENTS")
            assert info.config.num_replicas == 3
            assert info.cluster is not None
            assert len(info.cluster.replicas or []) == 2
        finally:
            await admin.close()
        rogue = _rogue_node(tmp_path, env, urls)  # a node whose route certificate another CA signed
        nodes.append(rogue)
        rogue.start()
        await asyncio.sleep(2.0)  # let it try: it reconnects its routes every second
        assert _routes(nodes[0]) == {"nats-2", "nats-3"}
    finally:
        for node in nodes:
            node.stop()


def _rogue_node(tmp_path: Path, env: dict[str, str], urls: str) -> DeployedNode:
    other = CertificateAuthority(tmp_path / "rogue-tls")
    other.issue("server")
    other.issue("route")
    config = copy_config("cluster.conf", tmp_path / "conf-rogue", other.directory, tmp_path / "store-rogue")
    args = ["--name", "rogue", "--cluster", f"nats://127.0.0.1:{free_port()}", "--routes", urls]
    return DeployedNode(config, env, tmp_path / "nats-rogue.log", args)


def _routes(node: DeployedNode) -> set[str]:
    routes = httpx.get(f"http://127.0.0.1:{node.monitor_port}/routez", timeout=5).json()["routes"] or []
    return {route["remote_name"] for route in routes}


async def _apply_when_cluster_ready(js: nats.js.JetStreamContext) -> list:  # type: ignore[type-arg]
    """The JetStream meta group needs a leader first (a few seconds after the routes connect)."""
    for _ in range(60):
        try:
            return await apply_streams(js, replicas=3)
        except NatsError:
            await asyncio.sleep(0.5)
    return await apply_streams(js, replicas=3)
