"""`make up` creates the notifier's secrets under var/ (mode 0600) when absent, and keeps existing ones."""

from __future__ import annotations

import stat
from pathlib import Path

from services.notifier.adapters.crypto import PhoneVault
from services.ops.launcher_secrets import ensure_notifier_secrets


def test_notifier_secrets_are_created_owner_only_and_kept_when_make_up_starts_again(tmp_path: Path) -> None:
    first = ensure_notifier_secrets(tmp_path)
    keys = {name: (tmp_path / name).read_text() for name in ("notifier-encryption.key", "notifier-hash.key")}
    second = ensure_notifier_secrets(tmp_path)

    assert (first, second) == (False, False)
    assert {name: (tmp_path / name).read_text() for name in keys} == keys
    assert all(stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600 for name in keys)
    PhoneVault([keys["notifier-encryption.key"].strip()], keys["notifier-hash.key"].strip())


def test_rehash_is_asked_for_when_an_old_var_dir_has_an_encryption_key_but_no_hash_key(tmp_path: Path) -> None:
    (tmp_path / "notifier-encryption.key").write_text("existing\n")

    assert ensure_notifier_secrets(tmp_path) is True
    assert (tmp_path / "notifier-encryption.key").read_text() == "existing\n"
    assert (tmp_path / "notifier-hash.key").stat().st_size > 40
