"""CLI commands find the embedded server's credentials in var/ by themselves (and only for that server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.contracts.nats_users import ADMIN
from services.runtime.nats.auth import NatsAuth, cli_nats_auth
from services.runtime.nats.embedded_secrets import EmbeddedSecrets
from tests.security.conftest import SecuredNats


def dvc_pulse(secured: SecuredNats, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DVC_")}
    env |= {"DVC_VAR_DIR": str(secured.var_dir), "DVC_NATS_URL": secured.url}
    command = [sys.executable, "-m", "services.ops.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_admin_commands_connect_as_admin_when_they_target_the_embedded_server(secured: SecuredNats) -> None:
    async with secured.connected("ingest") as ingest:
        await ingest.jetstream().publish("dvc.events.dossier.accepted", b'{"cli": 1}', headers={"Nats-Msg-Id": "cli-1"})
    applied = dvc_pulse(secured, "streams", "apply")
    assert applied.returncode == 0, applied.stderr
    read = dvc_pulse(secured, "ingest", "read", "--last", "1")
    assert read.returncode == 0, read.stderr
    assert '{"cli": 1}' in read.stdout
    listed = dvc_pulse(secured, "dlq", "list")
    assert listed.returncode == 0, listed.stderr


def test_cli_sends_no_embedded_password_when_it_targets_another_server(tmp_path: Path) -> None:
    secrets = EmbeddedSecrets.load_or_create(tmp_path)
    secrets.write_server_config(tmp_path / "nats.conf", 14222, tmp_path / "nats")
    elsewhere = cli_nats_auth(NatsAuth(), ["nats://nats.example.org:4222"], tmp_path)
    embedded = cli_nats_auth(NatsAuth(), ["nats://127.0.0.1:14222"], tmp_path)
    configured = cli_nats_auth(NatsAuth("tasks", "pw"), ["nats://127.0.0.1:14222"], tmp_path)
    assert elsewhere == NatsAuth()
    assert embedded == NatsAuth(ADMIN, secrets.passwords[ADMIN])
    assert configured == NatsAuth("tasks", "pw")
