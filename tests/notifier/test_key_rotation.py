"""Encryption keys rotate without losing a phone or an opt-out; the phone hash key is a separate secret, and an
installation whose hashes came from the encryption key is migrated by `rotate-key`."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text, update

from services.notifier.adapters.crypto import PhoneVault, legacy_hash_key, new_key
from services.notifier.adapters.keyring import HashKeyChanged, check_hash_key
from services.notifier.adapters.phones import to_e164
from services.notifier.adapters.tables import opt_outs
from services.notifier.adapters.unit_of_work import SqlUnitOfWork
from services.notifier.bootstrap import create_app
from services.notifier.domain.templates import ConfigError
from services.notifier.service_layer.rotation import rotate_keys
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.core_helpers import core
from tests.notifier.helpers import FakeClock, running_notifier, settings_for, vn

OLD, NEW, HASH = new_key(), new_key(), new_key()


def _legacy_vault(key: str) -> PhoneVault:
    """The vault of versions whose hash key was derived from the encryption key."""
    return PhoneVault([key], base64.urlsafe_b64encode(legacy_hash_key(key)).decode("ascii"))


async def _stored_ciphertexts(database_url: str) -> list[bytes]:
    async with core(database_url, FakeClock(vn("2026-03-02T08:15:30"))) as c, c.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT phone_encrypted FROM notifier_notifications WHERE phone_encrypted IS NOT NULL "
                "UNION ALL SELECT phone_encrypted FROM notifier_contacts WHERE phone_encrypted IS NOT NULL "
                "UNION ALL SELECT name_encrypted FROM notifier_contacts WHERE name_encrypted IS NOT NULL "
                "UNION ALL SELECT phone_encrypted FROM notifier_opt_outs WHERE phone_encrypted IS NOT NULL"
            )
        )
        return [bytes(value) for value in rows.scalars()]


async def test_opt_out_still_skips_the_phone_when_the_encryption_key_was_rotated(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock, vault=PhoneVault([OLD], HASH)) as before:
        await before.take(dossier_event("dossier.accepted", "HS-1"))
        await before.optouts.opt_out("0912345678", "api")

    report = None
    async with core(database_url, clock, vault=PhoneVault([NEW, OLD], HASH)) as during:
        report = await rotate_keys(lambda: SqlUnitOfWork(during.sessions), during.vault, to_e164, clock())
    stored = await _stored_ciphertexts(database_url)

    async with core(database_url, clock, vault=PhoneVault([NEW], HASH)) as after:
        await after.take(dossier_event("dossier.accepted", "HS-2", event_id="later"))
        rows = {row.dossier_code: row for row in await after.rows()}
        await check_hash_key(after.sessions, after.vault, clock())

    assert report is not None
    assert (report.unreadable, report.unmatched_opt_outs) == (0, 0)
    assert report.reencrypted == len(stored) == 3  # contact phone and name, opt-out phone (the message was skipped)
    assert all(PhoneVault([NEW], HASH).is_current(token) for token in stored)
    assert (rows["HS-2"].status, rows["HS-2"].reason) == ("skipped", "opted_out")


async def test_rotate_key_rehashes_the_old_hashes_when_they_came_from_the_encryption_key(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock, vault=_legacy_vault(OLD)) as legacy:
        await legacy.take(
            dossier_event(
                "dossier.accepted",
                "HS-1",
                applicant={"kind": "citizen", "name": "Trần Văn Bình", "phone": "0912345678", "sms_consent": True},
            )
        )
        await legacy.optouts.opt_out("0912 345 678", "api")
        await legacy.optouts.opt_out("0987654321", "api")  # a phone the notifier never messaged
        async with legacy.sessions.begin() as session:  # opt-outs used to keep only their hash
            await session.execute(update(opt_outs).values(phone_encrypted=None))

    async with core(database_url, clock, vault=PhoneVault([OLD], HASH)) as upgraded:
        with pytest.raises(HashKeyChanged, match="rotate-key"):
            await check_hash_key(upgraded.sessions, upgraded.vault, clock())
        report = await rotate_keys(lambda: SqlUnitOfWork(upgraded.sessions), upgraded.vault, to_e164, clock())
        await check_hash_key(upgraded.sessions, upgraded.vault, clock())
        await upgraded.take(dossier_event("dossier.payment_requested", "HS-1", time="2026-03-02T08:15:10+07:00"))
        rows = [(row.template_id, row.status, row.reason) for row in await upgraded.rows()]

    assert report.unmatched_opt_outs == 1
    assert ("citizen.payment_requested", "skipped", "opted_out") in rows


async def test_notifier_refuses_to_start_when_a_key_is_missing(tmp_path: Path) -> None:
    settings = settings_for("nats://127.0.0.1:1", f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", tmp_path)

    with pytest.raises(ConfigError, match="no encryption key: set DVC_NOTIFIER_ENCRYPTION_KEY"):
        create_app(settings.model_copy(update={"encryption_key": None}))
    with pytest.raises(ConfigError, match="no phone hash key: set DVC_NOTIFIER_HASH_KEY"):
        create_app(settings.model_copy(update={"hash_key": None}))
    with pytest.raises(ConfigError, match="hash key must be at least 32 bytes"):
        create_app(settings.model_copy(update={"hash_key": SecretStr("c2hvcnQ=")}))
    assert not (tmp_path / "var" / "notifier-encryption.key").exists()


async def test_notifier_reads_its_keys_from_files_when_the_settings_name_them(tmp_path: Path) -> None:
    (tmp_path / "enc").write_text(f"{NEW}\n{OLD}  # previous key, until rotate-key ran\n")
    (tmp_path / "hash").write_text(HASH + "\n")
    settings = settings_for("nats://127.0.0.1:1", f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", tmp_path)
    settings = settings.model_copy(
        update={"encryption_key": None, "hash_key": None, "encryption_key_file": tmp_path / "enc"}
    )
    settings = settings.model_copy(update={"hash_key_file": tmp_path / "hash"})

    vault = create_app(settings).state.vault

    assert vault.encryption_keys == (NEW, OLD)
    assert vault.hash("+84912345678") == PhoneVault([OLD], HASH).hash("+84912345678")


async def test_service_refuses_to_start_when_the_stored_hashes_came_from_another_hash_key(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock, vault=_legacy_vault(OLD)) as legacy:
        await legacy.optouts.opt_out("0912345678", "api")
    settings = settings_for(private_nats.url, database_url, tmp_path)
    settings = settings.model_copy(update={"encryption_key": SecretStr(OLD), "hash_key": SecretStr(HASH)})

    with pytest.raises(HashKeyChanged, match="run `dvc-pulse notifier rotate-key`"):
        async with running_notifier(settings, clock):
            pass
