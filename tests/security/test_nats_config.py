"""The one permissions table and everything derived from it: deploy/nats/*.conf, the embedded server's config
and secrets (private files), the services' durables, and `make up` on a store from before encryption."""

from __future__ import annotations

import importlib
import stat
from pathlib import Path

import nats
import pytest
import yaml

from services.contracts.nats_users import ADMIN, SERVICE_USERS, USERS, user
from services.runtime.nats.auth import MissingNatsSecret, NatsAuth
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.embedded_secrets import CONFIG_FILE, SECRETS_FILE, EmbeddedSecrets, LostNatsKey, secured_nats
from services.runtime.nats.server_config import render_users
from services.runtime.nats.streams import apply_streams

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nats"
DURABLE_SETTINGS = {
    ("indicators", "consumer"): "indicators",
    ("tasks", "consumer"): "tasks-snapshots",
    ("notifier", "events_consumer"): "notifier",
    ("notifier", "alerts_consumer"): "notifier-alerts",
}


def test_deployed_users_match_the_permissions_table_when_rendered() -> None:
    assert (DEPLOY / "users.conf").read_text() == render_users(), (
        "run: dvc-pulse nats users-conf > deploy/nats/users.conf"
    )


@pytest.mark.parametrize("config", ["server.conf", "cluster.conf"])
def test_deployed_config_has_users_tls_and_encryption_when_read(config: str) -> None:
    text = (DEPLOY / config).read_text()
    assert "include ./users.conf" in text
    assert "cipher: chachapoly" in text
    assert "key: $DVC_NATS_JETSTREAM_KEY" in text
    assert 'cert_file: "/etc/nats/tls/server.pem"' in text
    assert 'ca_file: "/etc/nats/tls/ca.pem"' in text
    assert "no_auth_user" not in text
    assert "allow_non_tls" not in text


def test_cluster_routes_authenticate_by_certificate_when_deployed() -> None:
    cluster = (DEPLOY / "cluster.conf").read_text().split("cluster {", 1)[1]
    assert 'cert_file: "/etc/nats/tls/route.pem"' in cluster
    assert "verify: true" in cluster


@pytest.mark.parametrize(("service", "setting"), list(DURABLE_SETTINGS))
def test_service_durable_is_in_the_permissions_table_when_settings_default(service: str, setting: str) -> None:
    settings = importlib.import_module(f"services.{service}.settings").Settings
    durable = settings.model_fields[setting].default
    assert durable == DURABLE_SETTINGS[(service, setting)]
    assert durable in {owned.name for owned in user(service).durables}


def test_only_admin_may_touch_streams_when_the_table_is_read() -> None:
    for candidate in USERS:
        allowed = " ".join(candidate.publish)
        if candidate.name == ADMIN:
            assert candidate.publish == (">",)
            continue
        assert ">" not in candidate.publish
        assert "$JS.API.>" not in allowed
        for forbidden in ("STREAM.DELETE", "STREAM.PURGE", "STREAM.CREATE", "STREAM.UPDATE", "_INBOX.>"):
            assert forbidden not in allowed
    assert {service.name for service in SERVICE_USERS} == {"ingest", "indicators", "tasks", "notifier"}


def test_embedded_secrets_are_private_and_kept_when_make_up_starts_twice(tmp_path: Path) -> None:
    first = EmbeddedSecrets.load_or_create(tmp_path)
    first.write_server_config(tmp_path / CONFIG_FILE, 14222, tmp_path / "nats")
    second = EmbeddedSecrets.load_or_create(tmp_path)
    assert (second.passwords, second.jetstream_key) == (first.passwords, first.jetstream_key)
    assert set(first.passwords) == {candidate.name for candidate in USERS}
    for name in (SECRETS_FILE, CONFIG_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_service_stops_when_a_nats_user_has_no_password() -> None:
    with pytest.raises(MissingNatsSecret, match="DVC_NATS_PASSWORD"):
        NatsAuth("ingest", "")


async def test_existing_store_is_kept_and_encrypted_when_make_up_adds_users_and_encryption(tmp_path: Path) -> None:
    """A `var/` from before this change: anonymous server, plaintext store. The next `make up` starts with
    users and a key; nats-server encrypts the existing streams as it loads them and the data is all there."""
    var = tmp_path / "var"
    old = EmbeddedNats(free_port(), var / "nats")
    old.start()
    try:
        client = await nats.connect(old.url)
        await apply_streams(client.jetstream())
        await client.jetstream().publish("dvc.events.dossier.accepted", b"Nguyen Van A 0912345678")
        await client.close()
    finally:
        old.stop()
    assert _stored(var / "nats").count(b"0912345678") >= 1

    server, secrets = secured_nats(free_port(), var, var / "nats.log")
    server.start()
    try:
        admin = await nats.connect(server.url, **NatsAuth(ADMIN, secrets.passwords[ADMIN]).connect_options())
        message = await admin.jetstream().get_msg("DVC_EVENTS", 1)
        await admin.close()
    finally:
        server.stop()
    assert message.data == b"Nguyen Van A 0912345678"
    assert b"0912345678" not in _stored(var / "nats")


def _stored(store: Path) -> bytes:
    return b"".join(path.read_bytes() for path in store.rglob("*") if path.is_file())


def test_every_compose_client_connects_as_its_own_user_over_tls_when_deployed() -> None:
    compose = yaml.safe_load((DEPLOY.parents[1] / "docker-compose.yml").read_text())["services"]
    clients = {name: name for name in ("ingest", "indicators", "tasks", "notifier")} | {"streams": ADMIN}
    for service, nats_user in clients.items():
        environment = compose[service]["environment"]
        assert environment["DVC_NATS_USER"] == nats_user
        assert environment["DVC_NATS_PASSWORD_FILE"] == f"/run/secrets/nats-{nats_user}.password"
        assert environment["DVC_NATS_CA_FILE"] == "/run/secrets/nats-tls/ca.pem"
        assert "./deploy/secrets:/run/secrets:ro" in compose[service]["volumes"]
    for node in ("nats-1", "nats-2", "nats-3"):
        assert compose[node]["env_file"] == "./deploy/secrets/nats.env"
        assert "./deploy/nats/users.conf:/etc/nats/users.conf:ro" in compose[node]["volumes"]
        assert "./deploy/secrets/nats-tls:/etc/nats/tls:ro" in compose[node]["volumes"]


def test_make_up_refuses_to_start_when_the_store_key_is_missing_or_another(tmp_path: Path) -> None:
    """nats-server with another key cannot load the streams, and `streams apply` would re-create them over the
    old ones: the data would be lost. So the launcher refuses before starting the server."""
    secrets = EmbeddedSecrets.load_or_create(tmp_path)
    secrets.write_server_config(tmp_path / CONFIG_FILE, free_port(), tmp_path / "nats")
    stream = tmp_path / "nats" / "jetstream" / "$G" / "streams" / "DVC_EVENTS"
    stream.mkdir(parents=True)
    (stream / "meta.key").write_bytes(b"encrypted")
    (tmp_path / SECRETS_FILE).rename(tmp_path / "kept.json")
    with pytest.raises(LostNatsKey, match="is missing"):
        EmbeddedSecrets.load_or_create(tmp_path)
    (stream / "meta.key").unlink()
    other = EmbeddedSecrets.load_or_create(tmp_path)  # a new key for a store that has one already
    with pytest.raises(LostNatsKey, match="another key"):
        other.write_server_config(tmp_path / CONFIG_FILE, free_port(), tmp_path / "nats")
    (tmp_path / "kept.json").replace(tmp_path / SECRETS_FILE)
    EmbeddedSecrets.load_or_create(tmp_path).write_server_config(tmp_path / CONFIG_FILE, free_port(), tmp_path / "nats")
