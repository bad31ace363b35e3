from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from typer.testing import CliRunner

from services.contracts.events import message_id, parse_event
from services.contracts.partitioning import stored_event_subject
from services.ingest.entrypoints.cli import app
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.ingest.conftest import headers, make_settings, running_app

runner = CliRunner()


async def test_posted_event_is_printed_byte_exact_when_read_back_by_its_sequence(
    nats_server: EmbeddedNats, jetstream: object, tmp_path: Path
) -> None:
    event = dossier_event("dossier.supplement_requested", reason="Thiếu bản sao sổ hộ khẩu có chứng thực")
    async with running_app(make_settings(nats_server.url, tmp_path)) as client:
        response = await client.post("/v1/events", content=orjson.dumps(event), headers=headers())
    sequence = response.json()["results"][0]["stream_sequence"]

    env = {"DVC_NATS_URL": nats_server.url, "DVC_VAR_DIR": str(tmp_path)}
    result = await asyncio.to_thread(runner.invoke, app, ["read", "--seq", str(sequence)], env=env)

    assert result.exit_code == 0, result.output
    first_line, stored = result.stdout_bytes.split(b"\n")[:2]
    assert first_line.decode() == (
        f"#{sequence} {stored_event_subject(parse_event(event))} Nats-Msg-Id={message_id(event['source'], event['id'])}"
    )
    assert orjson.loads(stored)["data"]["reason"] == "Thiếu bản sao sổ hộ khẩu có chứng thực"
    assert "Thiếu bản sao sổ hộ khẩu có chứng thực".encode() in stored


def test_read_fails_with_a_clear_message_when_the_sequence_is_not_stored(
    nats_server: EmbeddedNats, jetstream: object
) -> None:
    env = {"DVC_NATS_URL": nats_server.url}

    result = runner.invoke(app, ["read", "--seq", "999999999"], env=env)

    assert result.exit_code == 1
    assert "#999999999: not in DVC_EVENTS" in result.stderr


def test_read_exits_with_one_line_when_nats_is_unreachable() -> None:
    from services.runtime.nats.embedded import free_port

    url = f"nats://127.0.0.1:{free_port()}"

    result = runner.invoke(app, ["read", "--last", "1"], env={"DVC_NATS_URL": url})

    assert result.exit_code == 1
    said, failed = result.stderr.splitlines()
    assert said == f"NATS: {url} (DVC_NATS_URL)"
    assert failed.startswith(f"cannot reach NATS at {url}: ")


def test_read_names_the_missing_stream_when_the_server_has_no_dvc_events(private_nats: EmbeddedNats) -> None:
    env = {"DVC_NATS_URL": private_nats.url}

    result = runner.invoke(app, ["read", "--last", "1"], env=env)

    assert result.exit_code == 1
    assert result.stderr == (
        f"NATS: {private_nats.url} (DVC_NATS_URL)\n"
        f"DVC_EVENTS does not exist on {private_nats.url}: run `dvc-pulse streams apply`\n"
    )


async def test_read_masks_the_applicant_name_and_phone_unless_personal_data_is_asked_for(
    nats_server: EmbeddedNats, jetstream: object, tmp_path: Path
) -> None:
    person = {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": "0912345678", "sms_consent": True}
    event = dossier_event("dossier.submitted", "HS-MASK-1", applicant=person)
    async with running_app(make_settings(nats_server.url, tmp_path)) as client:
        response = await client.post("/v1/events", content=orjson.dumps(event), headers=headers())
    sequence = str(response.json()["results"][0]["stream_sequence"])
    env = {"DVC_NATS_URL": nats_server.url, "DVC_VAR_DIR": str(tmp_path)}

    masked = await asyncio.to_thread(runner.invoke, app, ["read", "--seq", sequence], env=env)
    shown = await asyncio.to_thread(runner.invoke, app, ["read", "--seq", sequence, "--show-personal-data"], env=env)

    assert masked.exit_code == shown.exit_code == 0, masked.output + shown.output
    applicant = orjson.loads(masked.stdout_bytes.split(b"\n")[1])["data"]["applicant"]
    assert applicant == {"kind": "citizen", "name": "N*** T*** H*** N***", "phone": "09******78", "sms_consent": True}
    assert "Nhung" not in masked.stdout
    assert "0912345678" not in masked.stdout
    assert orjson.loads(shown.stdout_bytes.split(b"\n")[1])["data"]["applicant"] == person
