"""`POST /v1/dvcqg` and `GET /v1/dvcqg/unmapped` on the real ingest app and a real nats-server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from nats.js import JetStreamContext
from typer.testing import CliRunner

from services.ingest.domain.keys import KeySpec
from services.ingest.entrypoints.cli import app
from services.runtime.api_keys import hash_key
from services.runtime.nats.embedded import EmbeddedNats
from tests.ingest.conftest import COMMUNE_KEY, TEST_KEYS, make_settings, running_app, stream_count, wait_status
from tests.ingest.dvcqg_records import MAPPING_FILE, PORTAL_SOURCE, life, snapshot_record, snapshots, step, steps
from tests.ingest.test_availability import _apply_streams, wait_reason

PORTAL_KEY = "dvcik_test-portal-key"
PORTAL_KEYS = [*TEST_KEYS, KeySpec(name="dvcqg", sha256=hash_key(PORTAL_KEY), sources=(PORTAL_SOURCE,))]


def portal_settings(nats_url: str, var_dir: Path, **overrides: Any) -> Any:
    return make_settings(nats_url, var_dir, keys=PORTAL_KEYS, dvcqg_mapping_file=Path(MAPPING_FILE), **overrides)


async def send(client: httpx.AsyncClient, body: Any, key: str = PORTAL_KEY) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    return await client.post("/v1/dvcqg", content=content, headers=headers)


def added(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [entry["added"] for entry in response.json()["result"]]


async def test_five_snapshots_out_of_order_and_twice_store_each_event_once_when_sent_again(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    code = f"H04-{uuid.uuid4().hex[:10]}"
    first, second, third, fourth, fifth = life(code)
    async with running_app(portal_settings(nats_server.url, tmp_path)) as client:
        before = await stream_count(jetstream)
        out_of_order = [await send(client, snapshots(record)) for record in (third, first, fifth, second, fourth)]
        step_answer = await send(client, steps(step(code)))
        twice = await send(client, snapshots(first, second, third, fourth, fifth))
        stored = await stream_count(jetstream) - before
        metrics = (await client.get("/metrics")).text
        anomalies = await client.get("/v1/dvcqg/anomalies", headers={"authorization": f"Bearer {PORTAL_KEY}"})

    assert [added(answer) for answer in out_of_order] == [[4], [0], [2], [0], [0]]
    assert added(step_answer) == [1]
    assert added(twice) == [0, 0, 0, 0, 0]
    assert twice.json()["result"][4]["duplicates"] == 6
    assert stored == 7
    late = out_of_order[1].json()
    assert late["error_code"] == 0
    assert late["result"][0]["error_code"] == 0
    assert "recorded as an anomaly" in late["result"][0]["message"]
    assert 'dvc_ingest_dvcqg_records_total{result="regressed",service="DongBoHoSoMC"} 7.0' in metrics
    assert 'dvc_ingest_dvcqg_records_total{result="kept",service="DongBoHoSoMC"} 3.0' in metrics
    [regressed] = [row for row in anomalies.json() if row["dossier_code"] == code]
    assert (regressed["status"], regressed["anomalies"]) == ("10", 7)
    assert regressed["last_anomaly"] == "status 9 after 10"


async def test_a_record_that_cannot_be_mapped_gets_its_code_when_the_others_are_stored(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    code = f"H04-{uuid.uuid4().hex[:10]}"
    body = snapshots(
        snapshot_record(f"{code}-1"),
        snapshot_record(f"{code}-2", DonViXuLy="UBND xã Khác"),
        snapshot_record(f"{code}-3", NgayTiepNhan="2026-03-02"),
        snapshot_record(f"{code}-4", MaTTHC="9.000001", TenTTHC="Thủ tục chưa ánh xạ"),
    )
    async with running_app(portal_settings(nats_server.url, tmp_path)) as client:
        answer = await send(client, body)
        orphan = await send(client, steps(step(f"{code}-9")))
        unmapped = await client.get("/v1/dvcqg/unmapped", headers={"authorization": f"Bearer {PORTAL_KEY}"})

    assert answer.status_code == 200
    document = answer.json()
    assert [entry["error_code"] for entry in document["result"]] == [0, 4, 1, 0]
    assert [entry["added"] for entry in document["result"]] == [1, 0, 0, 1]
    assert "DonViXuLy" in document["result"][1]["message"]
    assert document["message"] == "2 record(s) kept, 2 refused (see result)"
    assert orphan.json()["result"][0]["error_code"] == 3
    assert unmapped.status_code == 200
    assert unmapped.json() == [
        {
            "source": PORTAL_SOURCE,
            "procedure_code": "9.000001",
            "name": "Thủ tục chưa ánh xạ",
            "dossiers": 1,
            "first_seen": unmapped.json()[0]["first_seen"],
            "last_seen": unmapped.json()[0]["last_seen"],
        }
    ]


async def test_a_malformed_body_is_a_problem_naming_the_field_when_it_is_not_a_portal_payload(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    async with running_app(portal_settings(nats_server.url, tmp_path)) as client:
        broken = await send(client, b'{"service": "DongBoHoSoMC", "data": [')
        unknown_service = await send(client, {"service": "LayDanhSachHoSo", "data": []})
        no_data = await send(client, {"service": "DongBoHoSoMC", "data": {"MaHoSo": "x"}})
        prefix_key = await send(client, snapshots(snapshot_record()), key=COMMUNE_KEY)
        unauthenticated = await client.post("/v1/dvcqg", content=b"{}")

    assert broken.status_code == 400
    assert broken.headers["content-type"] == "application/problem+json"
    assert unknown_service.status_code == 422
    assert unknown_service.json()["errors"][0]["field"] == "service"
    assert no_data.json()["errors"][0]["field"] == "data"
    assert prefix_key.status_code == 200  # urn:dvc:* covers the default source urn:dvc:lam-thao:dvcqg
    assert unauthenticated.status_code == 401


async def test_portal_payloads_get_503_with_retry_after_when_nats_is_down_then_200_when_it_is_back(
    private_nats: EmbeddedNats, tmp_path: Path
) -> None:
    await _apply_streams(private_nats.url)
    body = snapshots(*life(f"H04-{uuid.uuid4().hex[:10]}")[:1])
    async with running_app(portal_settings(private_nats.url, tmp_path / "var")) as client:
        private_nats.stop()
        await wait_reason(client, "nats")
        refused = await send(client, body)
        private_nats.start()
        await wait_status(client, "/readyz", 200)
        retried = await send(client, body)
        again = await send(client, body)

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"
    assert refused.headers["content-type"] == "application/problem+json"
    assert added(retried) == [1]
    assert added(again) == [0]


async def test_events_carry_the_phone_and_consent_only_when_the_key_was_added_with_sms_consent(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}
    added_keys = {
        name: CliRunner().invoke(
            app, ["keys", "add", "--name", name, "--source", f"urn:dvc:{name}:dvcqg", *flags], env=env
        )
        for name, flags in (("with-consent", ["--sms-consent"]), ("without", []))
    }
    assert all(result.exit_code == 0 for result in added_keys.values()), added_keys
    listed = CliRunner().invoke(app, ["keys", "list"], env=env)
    assert "SMS consent collected" in listed.output
    code = f"H04-{uuid.uuid4().hex[:10]}"
    subscription = await jetstream.subscribe("dvc.events.dossier.accepted.>", ordered_consumer=True)
    settings = make_settings(nats_server.url, tmp_path, keys=[], dvcqg_mapping_file=Path(MAPPING_FILE))
    async with running_app(settings) as client:
        for name, result in added_keys.items():
            key = result.stdout.strip().split()[-1]
            assert added(await send(client, snapshots(snapshot_record(f"{code}-{name}")), key=key)) == [1]
    applicants = {}
    while len(applicants) < 2:
        message = await subscription.next_msg(timeout=10)
        event = orjson.loads(message.data)
        if event["subject"].startswith(code):
            applicants[event["source"]] = event["data"]["applicant"]
    await subscription.unsubscribe()

    assert applicants["urn:dvc:with-consent:dvcqg"]["phone"] == "0912345678"
    assert applicants["urn:dvc:with-consent:dvcqg"]["sms_consent"] is True
    assert "phone" not in applicants["urn:dvc:without:dvcqg"]
    assert applicants["urn:dvc:without:dvcqg"]["sms_consent"] is False
