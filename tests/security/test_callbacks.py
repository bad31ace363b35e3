"""Provider callbacks fail closed: every provider, the default outbox included, needs a non-empty token, or the
notifier does not start; an unauthenticated receipt or inbound reply gets 401 and records nothing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.notifier.adapters.providers import HttpSettings, OutboxSettings
from services.notifier.adapters.providers.callback_auth import OUTBOX_TOKEN_FILE, CallbackTokens
from services.notifier.adapters.tables import opt_outs
from services.notifier.bootstrap import create_app
from services.notifier.domain.templates import ConfigError
from services.ops.launcher_secrets import ensure_outbox_callback_token
from services.runtime.db import create_engine
from services.runtime.nats.embedded import EmbeddedNats
from tests.notifier.helpers import FakeClock, running_notifier, settings_for, vn

STOP = {"from": "0912345678", "text": "STOP"}


@pytest.mark.parametrize(
    ("providers", "named"),
    [
        ("outbox", "does not exist"),  # the default: no var/notifier-outbox-token
        ("[{kind: outbox, receipt_token: '${DVC_TEST_UNSET_TOKEN}'}]", "is empty"),
        ("[{kind: outbox, receipt_token: ''}]", "is empty"),
        ("[{kind: outbox, receipt_token: '   '}]", "is empty"),
        (
            "[{kind: outbox, receipt_token: t}, {kind: http, name: esms, url: 'http://gw'}]",
            "'esms' has no receipt_token",
        ),
    ],
)
def test_the_notifier_refuses_to_start_when_a_provider_has_no_usable_token(
    providers: str, named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DVC_TEST_UNSET_TOKEN", raising=False)
    settings = settings_for("nats://127.0.0.1:9", f"sqlite+aiosqlite:///{tmp_path}/n.db", tmp_path, providers=providers)

    with pytest.raises(ConfigError) as refused:
        create_app(settings)

    assert named in str(refused.value)
    assert "DVC_NOTIFIER_PROVIDERS" in str(refused.value)


def test_the_outbox_token_is_read_from_var_when_make_up_wrote_it(tmp_path: Path) -> None:
    path = ensure_outbox_callback_token(tmp_path)
    again = ensure_outbox_callback_token(tmp_path)
    token = path.read_text().strip()

    tokens = CallbackTokens.resolve([OutboxSettings(path=tmp_path / "o.jsonl")], tmp_path)

    assert (path, again, path.name) == (again, path, OUTBOX_TOKEN_FILE)
    assert again.read_text().strip() == token  # kept across restarts
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) >= 40
    assert tokens.accepts("outbox", token, None)
    assert not tokens.accepts("outbox", None, token)  # the outbox does not take it in the query
    assert not tokens.accepts("outbox", "guess", None)


def test_the_query_token_is_accepted_only_when_the_provider_is_configured_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_TEST_RECEIPT_TOKEN", "s3cret")
    tokens = CallbackTokens.resolve(
        [
            HttpSettings(name="header-only", url="http://x", receipt_token="${DVC_TEST_RECEIPT_TOKEN}"),
            HttpSettings(name="url-only", url="http://x", receipt_token="s3cret", receipt_token_in_query=True),
        ],
        tmp_path,
    )

    assert tokens.accepts("header-only", "s3cret", None)
    assert not tokens.accepts("header-only", None, "s3cret")
    assert not tokens.accepts("header-only", "", "")
    assert tokens.accepts("url-only", None, "s3cret")
    assert not tokens.accepts("url-only", None, "")


async def _opt_out_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(opt_outs))).scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.timeout(120)
async def test_an_unauthenticated_stop_reply_is_refused_and_no_opt_out_is_recorded_when_the_outbox_is_the_default(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    token = ensure_outbox_callback_token(tmp_path / "var").read_text().strip()
    settings = settings_for(private_nats.url, database_url, tmp_path, providers="outbox")
    async with running_notifier(settings, FakeClock(vn("2026-03-02T08:15:30"))) as notifier:
        no_token = await notifier.api.post("/v1/inbound/outbox", json=STOP)
        empty_query = await notifier.api.post("/v1/inbound/outbox?token=", json=STOP)
        empty_bearer = await notifier.api.post("/v1/inbound/outbox", json=STOP, headers={"Authorization": "Bearer "})
        receipt = await notifier.api.post("/v1/receipts/outbox", json={"reference": "x", "status": "DELIVRD"})
        rows_after_refusals = await _opt_out_rows(database_url)
        with_token = await notifier.api.post(
            "/v1/inbound/outbox", json=STOP, headers={"Authorization": f"Bearer {token}"}
        )

    refused = (no_token, empty_query, empty_bearer, receipt)
    assert [answer.status_code for answer in refused] == [401, 401, 401, 401]
    assert all(answer.headers["content-type"] == "application/problem+json" for answer in refused)
    assert rows_after_refusals == 0
    assert (with_token.status_code, with_token.json()["action"]) == (200, "opted_out")
    assert await _opt_out_rows(database_url) == 1
