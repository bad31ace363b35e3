"""The running service: events published to the real nats-server move the API, metrics and snapshots."""

from __future__ import annotations

import json

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event, procedure_published
from tests.indicators.app_helpers import connected, eventually, indicators, publish, running_app, settings_for
from tests.metric_helpers import sample

pytestmark = pytest.mark.timeout(120)


def accepted(code: str, channel: str, time: str = "2026-03-02T08:00:00+07:00") -> dict[str, object]:
    return dossier_event("dossier.accepted", code, time=time, channel=channel, due_at="2026-03-04T17:00:00+07:00")


async def test_indicators_move_when_events_arrive_on_the_stream(private_nats: EmbeddedNats, database_url: str) -> None:
    async with (
        connected(private_nats.url) as (_client, js),
        running_app(settings_for(private_nats.url, database_url)) as api,
    ):
        await publish(js, [procedure_published("1.001193"), accepted("HS-1", "online"), accepted("HS-2", "direct")])

        async def two_accepted() -> dict[str, dict[str, object]] | None:
            rows = await indicators(api)
            return rows if rows["I20"]["denominator"] == 2 else None

        first = await eventually(two_accepted)
        assert (first["I20"]["numerator"], first["I20"]["value"], first["I20"]["status"]) == (1, 50.0, "not_met")
        assert first["I22"] == {**first["I22"], "numerator": 0, "denominator": 0, "value": None, "status": "no_data"}
        assert (first["I15"]["value"], first["I20"]["target"], first["I20"]["unit"]) == (100.0, 95.0, "%")
        assert first["I20"]["name"] == "Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến"

        await publish(
            js,
            [accepted("HS-3", "online"), dossier_event("dossier.processed", "HS-1", time="2026-03-03T09:00:00+07:00")],
        )

        async def processed() -> dict[str, dict[str, object]] | None:
            rows = await indicators(api)
            return rows if rows["I22"]["denominator"] == 1 and rows["I20"]["denominator"] == 3 else None

        second = await eventually(processed)
        assert (second["I22"]["value"], second["I22"]["status"]) == (100.0, "met")
        assert second["ONTIME"]["numerator"] >= 1

        dossier = await api.get("/v1/dossiers/HS-1")
        assert dossier.status_code == 200
        body = dossier.json()
        assert (body["status"], body["on_time"], body["risk"]) == ("processed", True, None)
        assert body["due"]["original"].startswith("2026-03-04T10:00:00")


async def test_dossier_metrics_carry_the_catalogue_field_when_the_procedure_was_published(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    land = procedure_published("1.000045", field="Đất đai")
    events = [procedure_published("1.001193"), land, accepted("HS-30", "online"), accepted("HS-31", "direct")]
    events.append(
        dossier_event(
            "dossier.accepted", "HS-32", procedure_code="1.000045", channel="online", due_at="2026-03-04T17:00:00+07:00"
        )
    )
    async with (
        connected(private_nats.url) as (_client, js),
        running_app(settings_for(private_nats.url, database_url)) as api,
    ):
        await publish(js, events)

        async def exposed() -> str | None:
            text = (await api.get("/metrics")).text
            return text if sample(text, "dvc_dossiers_open", agency="UBND-LAMTHAO", field="Đất đai") else None

        text = await eventually(exposed)
    assert sample(text, "dvc_dossiers_open", agency="UBND-LAMTHAO", field="Hộ tịch") == 2
    assert sample(text, "dvc_dossiers_open", agency="UBND-LAMTHAO", field="Đất đai") == 1
    assert sample(text, "dvc_dossiers_received", agency="UBND-LAMTHAO", field="Đất đai", channel="online") == 1
    assert sample(text, "dvc_dossiers_overdue", agency="UBND-LAMTHAO", field="Hộ tịch") is not None
    assert sample(text, "dvc_dossiers_late_without_apology", agency="UBND-LAMTHAO", field="Hộ tịch") is not None


async def test_redelivered_and_malformed_messages_change_nothing_when_valid_ones_still_flow(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    async with (
        connected(private_nats.url) as (_client, js),
        running_app(settings_for(private_nats.url, database_url)) as api,
    ):
        first = accepted("HS-10", "online")
        await publish(js, [first])
        await js.publish("dvc.events.dossier.accepted", b"{not json", headers={"Nats-Msg-Id": "garbage-1"})
        await publish(js, [first], msg_id_suffix=":resent")  # same event, not deduplicated by JetStream
        await publish(js, [accepted("HS-11", "direct")])

        async def both() -> dict[str, dict[str, object]] | None:
            rows = await indicators(api)
            return rows if rows["I20"]["denominator"] == 2 else None

        rows = await eventually(both)
        assert rows["I20"]["numerator"] == 1
        dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.indicators")
        assert dead.data == b"{not json"
        assert dead.headers is not None
        assert dead.headers["Dvc-Error"].startswith("invalid: ")
        dossier = (await api.get("/v1/dossiers/HS-10")).json()
        assert dossier["status"] == "accepted"


async def test_unknown_dossier_is_a_problem_when_the_code_was_never_seen(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    async with connected(private_nats.url), running_app(settings_for(private_nats.url, database_url)) as api:
        response = await api.get("/v1/dossiers/KHONG-CO")
        bad_period = await api.get("/v1/indicators", params={"from": "2026-13-01"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "KHONG-CO" in response.json()["detail"]
    assert bad_period.status_code == 422
    assert bad_period.json()["errors"][0]["field"] == "from"


async def test_metrics_and_snapshot_show_the_values_when_the_service_restarts(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    settings = settings_for(private_nats.url, database_url)
    async with connected(private_nats.url) as (_client, js):
        async with running_app(settings) as api:
            await publish(js, [accepted("HS-20", "online"), accepted("HS-21", "online")])

            async def applied() -> bool:
                return (await indicators(api))["I20"]["denominator"] == 2

            await eventually(applied)
        async with running_app(settings) as api:
            text = (await api.get("/metrics")).text
        snapshot = await js.get_last_msg("DVC_ALERTS", "dvc.indicators.snapshot")
    assert 'dvc_indicator_numerator{code="I20"} 2.0' in text
    assert 'dvc_dossiers_open{agency="UBND-LAMTHAO",field="unknown"} 2.0' in text  # no catalogue entry
    assert "dvc_indicators_events_applied_total 2.0" in text
    assert "0912345678" not in text
    assert "HS-20" not in text
    body = json.loads(snapshot.data)
    assert snapshot.headers is not None
    assert snapshot.headers["Nats-Msg-Id"] == body["snapshot_id"]
    assert {row["code"] for row in body["indicators"]} >= {"I15", "I25", "ONTIME"}


async def test_service_waits_unready_then_consumes_when_the_streams_appear_late(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    async with running_app(settings_for(private_nats.url, database_url)) as api:

        async def streams_missing() -> dict[str, object] | None:
            response = await api.get("/readyz")
            body = response.json()
            missing = response.status_code == 503 and "streams missing" in body["reasons"].get("streams", "")
            return body if missing else None

        alive, unready = await api.get("/healthz"), await eventually(streams_missing)
        async with connected(private_nats.url) as (_client, js):  # `dvc-pulse streams apply` runs now
            await publish(js, [accepted("HS-30", "online")])

            async def counted() -> bool:
                return (await indicators(api))["I20"]["denominator"] == 1

            await eventually(counted)
            ready = await api.get("/readyz")
    assert alive.status_code == 200
    assert "DVC_EVENTS" in str(unready["reasons"])
    assert ready.status_code == 200


async def test_anomaly_is_listed_and_measured_when_an_event_follows_a_withdrawal(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    settings = settings_for(private_nats.url, database_url)
    late = dossier_event("dossier.processed", "HS-30", time="2026-03-03T09:00:00+07:00", result_electronic=True)
    withdrawn = dossier_event("dossier.withdrawn", "HS-30", time="2026-03-02T10:00:00+07:00", reason="Rút hồ sơ")
    async with connected(private_nats.url) as (_client, js), running_app(settings) as api:
        await publish(js, [accepted("HS-30", "online"), withdrawn, late])

        async def listed() -> list[dict[str, object]] | None:
            rows = (await api.get("/v1/anomalies")).json()
            return rows or None

        rows = await eventually(listed)
        dossier = (await api.get("/v1/dossiers/HS-30")).json()
        assert (await indicators(api))["I22"]["denominator"] == 0
    async with running_app(settings) as api:
        text = (await api.get("/metrics")).text
    assert rows == [
        {
            "dossier_code": "HS-30",
            "status": "withdrawn",
            "ended_at": dossier["ended_at"],
            "anomalies": 1,
            "last_anomaly": "dossier.processed",
        }
    ]
    assert (dossier["anomalies"], dossier["last_anomaly"], dossier["status"]) == (1, "dossier.processed", "withdrawn")
    assert 'dvc_dossiers_with_events_after_end{type="dossier.processed"} 1.0' in text
