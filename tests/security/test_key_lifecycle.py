"""One key lifecycle for every service: `keys add|list|revoke|rotate`, expiry, last use, and keys bound only to
sources or units the service knows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from services.runtime.api_keys import KeyRefused, KeyStore, Refusal, hash_key
from services.runtime.key_usage import KeyUsage, read_usage
from services.runtime.keys_cli import parse_expiry

runner = CliRunner()
NOW = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


@dataclass
class ServiceKeys:
    cli: typer.Typer
    add: list[str]
    keys_file: str
    store: Callable[[Path], KeyStore[Any]]
    rights: Callable[[Any], Any]


def _ingest() -> ServiceKeys:
    from services.ingest.adapters.keystore import key_store
    from services.ingest.entrypoints.cli import app

    add = ["keys", "add", "--name", "desk", "--source", "urn:dvc:lam-thao:*"]
    return ServiceKeys(app, add, "ingest-keys.json", lambda p: key_store(p, check_every=0), lambda s: s.sources)


def _tasks() -> ServiceKeys:
    from services.tasks.adapters.keys import key_store
    from services.tasks.entrypoints.cli import app

    add = ["keys", "add", "--name", "desk", "--unit", "VHXH"]
    return ServiceKeys(app, add, "tasks-keys.json", lambda p: key_store(p, check_every=0), lambda s: (s.unit, s.admin))


def _notifier() -> ServiceKeys:
    from services.notifier.adapters.keys import key_store
    from services.notifier.entrypoints.cli import app

    return ServiceKeys(app, ["keys", "add", "desk"], "notifier-keys.json", lambda p: key_store(p, check_every=0), type)


SERVICES = {"ingest": _ingest, "tasks": _tasks, "notifier": _notifier}


def _refusal(store: KeyStore[Any], key: str) -> Refusal | None:
    try:
        store.ring().check(key)
    except KeyRefused as refused:
        return refused.reason
    return None


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_key_is_added_rotated_and_revoked_with_the_same_commands_when_any_service_is_named(
    service: str, tmp_path: Path
) -> None:
    keys = SERVICES[service]()
    env = {"DVC_VAR_DIR": str(tmp_path)}
    added = runner.invoke(keys.cli, [*keys.add, "--expires", "30"], env=env)
    first = added.stdout.strip()
    store = keys.store(tmp_path / keys.keys_file)
    rights = keys.rights(store.ring().check(first))

    rotated = runner.invoke(keys.cli, ["keys", "rotate", "desk"], env=env)
    second = rotated.stdout.strip()
    after_rotation = (_refusal(store, first), _refusal(store, second), keys.rights(store.ring().check(second)))
    listed = runner.invoke(keys.cli, ["keys", "list"], env=env)
    revoked = runner.invoke(keys.cli, ["keys", "revoke", "desk"], env=env)
    again = runner.invoke(keys.cli, ["keys", "revoke", "desk"], env=env)
    listed_after = runner.invoke(keys.cli, ["keys", "list"], env=env)

    codes = (added.exit_code, rotated.exit_code, listed.exit_code, revoked.exit_code)
    assert codes == (0, 0, 0, 0), added.output + rotated.output + revoked.output
    assert first != second
    assert after_rotation == (Refusal.REVOKED, None, rights)
    assert "desk: active" in listed.stdout
    assert "desk@" in listed.stdout
    assert ": revoked" in listed.stdout
    assert first not in listed.output
    assert second not in listed.output
    assert _refusal(store, second) is Refusal.REVOKED
    assert again.exit_code == 1
    assert "already revoked" in again.output
    assert "desk: revoked" in listed_after.stdout


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_old_secret_works_until_the_grace_ends_when_a_key_is_rotated_with_grace(
    service: str, tmp_path: Path
) -> None:
    keys = SERVICES[service]()
    env = {"DVC_VAR_DIR": str(tmp_path)}
    first = runner.invoke(keys.cli, keys.add, env=env).stdout.strip()
    rotated = runner.invoke(keys.cli, ["keys", "rotate", "desk", "--grace-hours", "24"], env=env)
    store = keys.store(tmp_path / keys.keys_file)

    assert rotated.exit_code == 0, rotated.output
    assert _refusal(store, first) is None
    assert _refusal(store, rotated.stdout.strip()) is None
    later = datetime.now(UTC) + timedelta(hours=25)
    with pytest.raises(KeyRefused) as refused:
        store.ring().check(first, later)
    assert refused.value.reason is Refusal.EXPIRED


def test_an_expired_key_is_refused_when_its_expiry_has_passed(tmp_path: Path) -> None:
    from services.notifier.adapters.keys import key_files, key_store
    from services.notifier.domain.operators import KeySpec

    path = tmp_path / "notifier-keys.json"
    key_files.write(path, [KeySpec(name="old", sha256=hash_key("k"), expires_at=NOW)])

    store = key_store(path)

    assert store.ring().authenticate("k", NOW - timedelta(seconds=1)) is not None
    assert store.ring().authenticate("k", NOW) is None


def test_a_unit_no_plan_knows_is_refused_when_a_tasks_key_is_added(tmp_path: Path) -> None:
    from services.tasks.entrypoints.cli import app

    result = runner.invoke(app, ["keys", "add", "--name", "x", "--unit", "NOPE"], env={"DVC_VAR_DIR": str(tmp_path)})

    assert result.exit_code == 2
    assert "unknown unit 'NOPE'" in result.output
    assert "VHXH" in result.output
    assert not (tmp_path / "tasks-keys.json").exists()


@pytest.mark.parametrize("source", ["urn:evil:*", "*", "https://example.org/x"])
def test_an_unknown_source_is_refused_when_an_ingest_key_is_added(source: str, tmp_path: Path) -> None:
    from services.ingest.entrypoints.cli import app

    result = runner.invoke(app, ["keys", "add", "--name", "x", "--source", source], env={"DVC_VAR_DIR": str(tmp_path)})

    assert result.exit_code == 2
    assert "unknown source" in result.output
    assert not (tmp_path / "ingest-keys.json").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-01", datetime(2027, 1, 1, tzinfo=UTC)),
        ("90", NOW + timedelta(days=90)),
        ("90d", NOW + timedelta(days=90)),
        ("2027-01-01T08:00:00+07:00", datetime(2027, 1, 1, 1, tzinfo=UTC)),
        (None, None),
    ],
)
def test_expiry_is_a_date_a_date_time_or_days_when_given_to_keys_add(text: str | None, expected: datetime) -> None:
    assert parse_expiry(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason"), [("2020-01-01", "already past"), ("0", "at least 1"), ("soon", "neither a date")]
)
def test_expiry_is_refused_when_it_is_past_zero_or_not_a_date(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_expiry(text, NOW)


def test_last_use_is_written_at_most_once_a_minute_when_keys_are_used_often(tmp_path: Path) -> None:
    path = tmp_path / "keys.usage.json"
    usage = KeyUsage(path, flush_every=60, clock=lambda: NOW)

    usage.touch("a")
    written_first = read_usage(path)
    usage.touch("b")
    usage.touch("a")
    before_flush = read_usage(path)
    usage.flush()

    assert written_first == {"a": NOW}
    assert before_flush == {"a": NOW}  # no write per request
    assert read_usage(path) == {"a": NOW, "b": NOW}


def test_keys_list_shows_the_last_use_when_the_service_used_the_key(tmp_path: Path) -> None:
    from services.notifier.adapters.keys import key_store
    from services.notifier.entrypoints.cli import app

    env = {"DVC_VAR_DIR": str(tmp_path)}
    key = runner.invoke(app, ["keys", "add", "desk"], env=env).stdout.strip()
    unused = runner.invoke(app, ["keys", "list"], env=env).stdout
    key_store(tmp_path / "notifier-keys.json").ring().check(key)  # what an accepted request does

    listed = runner.invoke(app, ["keys", "list"], env=env).stdout

    assert "last used -" in unused
    assert f"last used {datetime.now(UTC):%Y-%m-%d}" in listed


@pytest.mark.parametrize(
    ("service", "document"),
    [
        ("ingest", {"keys": [{"name": "a", "sha256": hash_key("k"), "sources": ["urn:dvc:*"], "created_at": None}]}),
        ("tasks", {"keys": [{"name": "a", "sha256": hash_key("k"), "unit": "VHXH"}]}),
        ("notifier", {"keys": [{"name": "a", "sha256": hash_key("k"), "created_at": "2026-01-02T03:04:05Z"}]}),
    ],
)
def test_a_keys_file_written_before_expiry_and_revocation_existed_still_works_when_read(
    service: str, document: dict[str, Any], tmp_path: Path
) -> None:
    keys = SERVICES[service]()
    path = tmp_path / keys.keys_file
    path.write_bytes(orjson.dumps(document))

    assert keys.store(path).ring().authenticate("k") is not None


async def test_the_service_records_the_last_use_in_var_when_a_request_is_admitted(tmp_path: Path) -> None:
    import httpx

    from tests.security.apps import tasks_app

    app, keys = tasks_app(tmp_path)
    assert keys is not None
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://usage") as client:
        await client.get("/v1/audit", headers=keys.headers["right"])
        await client.get("/v1/audit", headers=keys.headers["revoked"])

    used = read_usage(tmp_path / "tasks-keys.usage.json")
    assert set(used) == {"right"}
    assert used["right"] > datetime.now(UTC) - timedelta(minutes=1)


def test_a_revoked_demo_key_is_replaced_not_revived_when_make_up_runs_again(tmp_path: Path) -> None:
    from services.notifier.adapters.keys import key_store
    from services.notifier.entrypoints.cli import app

    env = {"DVC_VAR_DIR": str(tmp_path)}
    first = runner.invoke(app, ["demo-key"], env=env).stdout.strip()
    runner.invoke(app, ["keys", "revoke", "demo"], env=env)
    second = runner.invoke(app, ["demo-key"], env=env).stdout.strip()
    store = key_store(tmp_path / "notifier-keys.json")

    assert second != first
    assert _refusal(store, first) is not None
    assert _refusal(store, second) is None
    assert (tmp_path / "demo-notifier-key").read_text().strip() == second
