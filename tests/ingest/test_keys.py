from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from nats.js import JetStreamContext
from typer.testing import CliRunner

from services.ingest.adapters.keystore import key_store, read_keys
from services.ingest.entrypoints.cli import app
from services.runtime.api_keys import hash_key
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.ingest.conftest import STRUCTURED, make_settings, running_app

runner = CliRunner()


def test_demo_key_is_created_once_and_printed_again_when_run_twice(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}

    first = runner.invoke(app, ["demo-key"], env=env)
    second = runner.invoke(app, ["demo-key"], env=env)

    assert first.exit_code == 0, first.output
    key = first.stdout.strip()
    assert second.stdout.strip() == key
    assert (tmp_path / "demo-ingest-key").read_text().strip() == key
    stored = read_keys(tmp_path / "ingest-keys.json")
    assert [(spec.name, spec.sha256, spec.sources) for spec in stored] == [("demo", hash_key(key), ("urn:dvc:*",))]
    assert key not in (tmp_path / "ingest-keys.json").read_text()
    spec = key_store(tmp_path / "ingest-keys.json").ring().authenticate(key)
    assert spec is not None
    assert spec.allows("urn:dvc:lam-thao:one-stop")
    assert not spec.allows("urn:other:system")


def test_demo_key_is_registered_again_when_the_keys_file_was_removed(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}
    key = runner.invoke(app, ["demo-key"], env=env).stdout.strip()
    (tmp_path / "ingest-keys.json").unlink()

    again = runner.invoke(app, ["demo-key"], env=env).stdout.strip()

    assert again == key
    assert [spec.sha256 for spec in read_keys(tmp_path / "ingest-keys.json")] == [hash_key(key)]


async def test_added_key_is_accepted_without_restart_when_the_running_app_rereads_the_keys_file(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    keys_file = tmp_path / "ingest-keys.json"
    env = {"DVC_VAR_DIR": str(tmp_path)}
    settings = make_settings(nats_server.url, tmp_path, keys=[], keys_file=keys_file, keys_reload_seconds=0)
    event = dossier_event("dossier.accepted", source="urn:dvc:lam-thao:document-system")
    body = orjson.dumps(event)
    async with running_app(settings) as client:
        before = await client.post("/v1/events", content=body, headers={"content-type": STRUCTURED})
        result = await asyncio.to_thread(
            runner.invoke,
            app,
            ["keys", "add", "--name", "documents", "--source", "urn:dvc:lam-thao:document-*"],
            env=env,
        )
        key = result.stdout.strip()
        headers = {"content-type": STRUCTURED, "authorization": f"Bearer {key}"}
        after = await client.post("/v1/events", content=body, headers=headers)

    assert result.exit_code == 0, result.output
    assert "only time the key is shown" in result.stderr
    assert key not in keys_file.read_text()
    assert before.status_code == 401
    assert "dvc-pulse ingest keys add" in before.json()["detail"]
    assert after.status_code == 202
