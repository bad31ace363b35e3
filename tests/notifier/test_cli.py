"""`dvc-pulse notifier ...` commands."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.notifier.adapters.crypto import PhoneVault, new_key
from services.notifier.adapters.keys import read_keys
from services.notifier.adapters.migrate import upgrade
from services.notifier.adapters.queries import add_opt_out
from services.notifier.entrypoints.cli import app
from services.runtime.api_keys import hash_key
from services.runtime.db import create_engine, create_session_factory

runner = CliRunner()


def test_purge_reports_what_it_cleared_when_run_on_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_NOTIFIER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}")
    result = runner.invoke(app, ["purge", "--older-than", "90d"])
    assert result.exit_code == 0, result.output
    assert "0 notifications cleared, 0 dossier contacts and 0 receipts deleted" in result.output


def test_purge_refuses_the_retention_when_it_is_not_days_or_hours() -> None:
    result = runner.invoke(app, ["purge", "--older-than", "3 months"])
    assert result.exit_code == 2


def test_template_check_fails_with_the_reason_when_a_template_is_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "templates.yaml"
    broken.write_text(
        "templates:\n  - {id: officer.x, version: 1, audience: officer, policy: unaccented, max_segments: 1,\n"
        "     body: '" + "Hồ sơ {dossier_code} sắp quá hạn. " * 6 + "'}\n",
        encoding="utf-8",
    )
    shipped = runner.invoke(app, ["check-templates"])
    monkeypatch.setenv("DVC_NOTIFIER_TEMPLATES_FILE", str(broken))
    refused = runner.invoke(app, ["check-templates"])

    assert shipped.exit_code == 0
    assert "citizen.accepted v2: UCS-2, 3 segment(s)" in shipped.output
    assert refused.exit_code == 1
    assert "template officer.x v1" in refused.output


def test_new_key_prints_a_fernet_key_when_asked() -> None:
    result = runner.invoke(app, ["new-key"])
    assert result.exit_code == 0
    assert len(result.output.strip()) == 44


def test_keys_add_prints_the_key_once_and_stores_only_its_hash_when_a_name_is_given(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}
    result = runner.invoke(app, ["keys", "add", "one-stop-desk"], env=env)

    key = result.stdout.strip()
    stored = read_keys(tmp_path / "notifier-keys.json")
    assert result.exit_code == 0, result.output
    assert key.startswith("dvcnk_")
    assert [(spec.name, spec.sha256) for spec in stored] == [("one-stop-desk", hash_key(key))]
    assert key not in (tmp_path / "notifier-keys.json").read_text()
    assert (tmp_path / "notifier-keys.json").stat().st_mode & 0o777 == 0o600


def test_keys_list_shows_names_but_never_keys_when_keys_exist(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}
    key = runner.invoke(app, ["keys", "add", "one-stop-desk"], env=env).stdout.strip()
    runner.invoke(app, ["keys", "add", "auditor"], env=env)
    listed = runner.invoke(app, ["keys", "list"], env=env)

    assert listed.exit_code == 0, listed.output
    assert [line.split(":")[0] for line in listed.stdout.splitlines()] == ["one-stop-desk", "auditor"]
    assert key not in listed.output


def test_keys_revoke_marks_only_that_key_revoked_when_the_name_exists(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}
    runner.invoke(app, ["keys", "add", "one-stop-desk"], env=env)
    runner.invoke(app, ["keys", "add", "auditor"], env=env)
    revoked = runner.invoke(app, ["keys", "revoke", "one-stop-desk"], env=env)

    assert revoked.exit_code == 0, revoked.output
    stored = read_keys(tmp_path / "notifier-keys.json")
    assert [(spec.name, spec.revoked_at is not None) for spec in stored] == [
        ("one-stop-desk", True),
        ("auditor", False),
    ]


def test_keys_revoke_exits_1_naming_the_key_when_no_key_has_that_name(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "revoke", "nobody"], env={"DVC_VAR_DIR": str(tmp_path)})

    assert result.exit_code == 1
    assert "no key named 'nobody'" in result.output


def test_demo_key_is_created_once_and_printed_again_when_run_twice(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}
    first = runner.invoke(app, ["demo-key"], env=env)
    second = runner.invoke(app, ["demo-key"], env=env)

    key = first.stdout.strip()
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert second.stdout.strip() == key
    assert (tmp_path / "demo-notifier-key").read_text().strip() == key
    assert [(s.name, s.sha256) for s in read_keys(tmp_path / "notifier-keys.json")] == [("demo", hash_key(key))]


def test_rotate_key_reencrypts_with_the_newest_key_when_a_new_key_is_put_first(tmp_path: Path) -> None:
    old, new, hash_key = new_key(), new_key(), new_key()
    env = {
        "DVC_VAR_DIR": str(tmp_path),
        "DVC_NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        "DVC_NOTIFIER_HASH_KEY": hash_key,
    }
    vault = PhoneVault([old], hash_key)
    asyncio.run(_store_opt_out(env["DVC_NOTIFIER_DATABASE_URL"], vault))

    rotated = runner.invoke(app, ["rotate-key"], env={**env, "DVC_NOTIFIER_ENCRYPTION_KEY": f"{new},{old}"})
    again = runner.invoke(app, ["rotate-key"], env={**env, "DVC_NOTIFIER_ENCRYPTION_KEY": new})

    assert rotated.exit_code == 0, rotated.output
    assert rotated.stdout.startswith(
        "1 values re-encrypted with the newest key, 0 phone hashes recomputed, 0 unreadable"
    )
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("0 values re-encrypted with the newest key, 0 phone hashes recomputed, 0 unreadable")


def test_rotate_key_refuses_with_the_reason_when_no_key_is_configured(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path), "DVC_NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"}

    result = runner.invoke(app, ["rotate-key"], env=env)

    assert result.exit_code == 2
    assert "cannot rotate: no encryption key: set DVC_NOTIFIER_ENCRYPTION_KEY" in result.stderr


async def _store_opt_out(database_url: str, vault: PhoneVault) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with create_session_factory(engine).begin() as session:
            await add_opt_out(
                session, vault.hash("+84912345678"), "api", datetime.now(UTC), vault.encrypt("+84912345678")
            )
    finally:
        await engine.dispose()
