"""Who may call the notifier's API: operator keys for notifications and opt-outs, the provider's token for
inbound replies, nothing for templates, health and metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from services.notifier.adapters.tables import opt_outs
from services.notifier.entrypoints.cli import app as cli
from services.runtime.db import create_engine
from services.runtime.nats.embedded import EmbeddedNats
from tests.notifier.helpers import OPERATOR, FakeClock, running_notifier, settings_for, vn

pytestmark = pytest.mark.timeout(120)
TOKEN_PROVIDERS = "[{kind: outbox, immediate_receipt: false, receipt_token: s3cret, receipt_token_in_query: true}]"
WRONG_KEY = {"Authorization": "Bearer dvcnk_not-a-key"}
STOP = {"from": "84912345678", "text": "STOP"}
runner = CliRunner()


async def opt_out_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(opt_outs))).scalar_one())
    finally:
        await engine.dispose()


async def test_notifications_are_refused_with_401_when_the_operator_key_is_missing_or_unknown(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier:
        missing = await notifier.api.get("/v1/notifications")
        unknown = await notifier.api.get("/v1/notifications", headers=WRONG_KEY)
        not_bearer = await notifier.api.get("/v1/notifications", headers={"Authorization": "Basic b3A6b3A="})
        one = await notifier.api.get("/v1/notifications/no-such-id")
        valid = await notifier.api.get("/v1/notifications", headers=OPERATOR)

    for refused in (missing, unknown, not_bearer, one):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer <key>" in refused.json()["detail"]
    assert missing.json()["detail"].startswith("this endpoint needs an operator key")
    assert unknown.json()["detail"].startswith("unknown operator key")
    assert (valid.status_code, valid.json()) == (200, [])


async def test_opt_out_is_refused_and_no_row_is_stored_when_the_operator_key_is_missing_or_unknown(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier:
        missing = await notifier.api.post("/v1/opt-outs", json={"phone": "0912345678"})
        unknown = await notifier.api.post("/v1/opt-outs", json={"phone": "0912345678"}, headers=WRONG_KEY)
        rows_after_refusals = await opt_out_rows(database_url)
        valid = await notifier.api.post("/v1/opt-outs", json={"phone": "0912345678"}, headers=OPERATOR)

    assert (missing.status_code, unknown.status_code) == (401, 401)
    assert "Authorization: Bearer <key>" in missing.json()["detail"]
    assert rows_after_refusals == 0
    assert (valid.status_code, valid.json()["already"]) == (201, False)
    assert await opt_out_rows(database_url) == 1


async def test_inbound_stop_is_refused_and_no_row_is_stored_when_the_provider_token_is_missing_or_wrong(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    settings = settings_for(private_nats.url, database_url, tmp_path, providers=TOKEN_PROVIDERS)
    async with running_notifier(settings, clock) as notifier:
        missing = await notifier.api.post("/v1/inbound/outbox", json=STOP)
        wrong = await notifier.api.post("/v1/inbound/outbox", json=STOP, headers={"Authorization": "Bearer nope"})
        wrong_query = await notifier.api.post("/v1/inbound/outbox?token=nope", json=STOP)
        operator_key = await notifier.api.post("/v1/inbound/outbox", json=STOP, headers=OPERATOR)
        unknown_provider = await notifier.api.post("/v1/inbound/viettel?token=s3cret", json=STOP)
        rows_after_refusals = await opt_out_rows(database_url)
        by_header = await notifier.api.post("/v1/inbound/outbox", json=STOP, headers={"Authorization": "Bearer s3cret"})
        by_query = await notifier.api.post(
            "/v1/inbound/outbox?token=s3cret", json={"from": "0987654321", "text": "HỦY"}
        )

    for refused in (missing, wrong, wrong_query, operator_key):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert "token" in refused.json()["detail"]
    assert unknown_provider.status_code == 404
    assert rows_after_refusals == 0
    assert (by_header.status_code, by_header.json()["action"]) == (200, "opted_out")
    assert (by_query.status_code, by_query.json()["action"]) == (200, "opted_out")
    assert await opt_out_rows(database_url) == 2


async def test_templates_health_and_metrics_answer_when_no_key_is_sent(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier:
        answers = {path: await notifier.api.get(path) for path in ("/v1/templates", "/healthz", "/readyz", "/metrics")}

    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(answers, 200)


async def test_a_key_is_accepted_after_keys_add_and_refused_after_keys_revoke_when_the_service_keeps_running(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    keys_file = tmp_path / "secrets" / "notifier-keys.json"
    env = {"DVC_NOTIFIER_KEYS_FILE": str(keys_file), "DVC_VAR_DIR": str(tmp_path / "var")}
    settings = settings_for(
        private_nats.url, database_url, tmp_path, keys=[], keys_file=keys_file, keys_reload_seconds=0
    )
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with running_notifier(settings, clock) as notifier:
        before = await notifier.api.get("/v1/notifications")
        added = runner.invoke(cli, ["keys", "add", "one-stop-desk"], env=env)
        key = {"Authorization": f"Bearer {added.stdout.strip()}"}
        accepted = await notifier.api.get("/v1/notifications", headers=key)
        revoked = runner.invoke(cli, ["keys", "revoke", "one-stop-desk"], env=env)
        after = await notifier.api.get("/v1/notifications", headers=key)

    assert added.exit_code == 0, added.output
    assert revoked.exit_code == 0, revoked.output
    assert (before.status_code, accepted.status_code, after.status_code) == (401, 200, 401)
