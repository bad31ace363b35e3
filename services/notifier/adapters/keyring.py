"""The notifier's secrets: the phone vault built from the settings (fail closed: no key, no start) and the
start-up check that the stored phone hashes were made with the configured hash key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifier.adapters import rekeying
from services.notifier.adapters.crypto import InvalidKey, PhoneVault, read_secret, split_keys
from services.notifier.domain.templates import ConfigError
from services.notifier.settings import Settings

_GENERATE = "generate one with `dvc-pulse notifier new-key`; `make up` creates it under var/"


def vault_from(settings: Settings) -> PhoneVault:
    """Raises ConfigError naming the missing or malformed secret; never generates one."""
    encryption_file = settings.resolved_encryption_key_file()
    hash_file = settings.resolved_hash_key_file()
    encryption = read_secret(
        settings.encryption_key.get_secret_value() if settings.encryption_key else None, encryption_file
    )
    if encryption is None:
        raise ConfigError(
            f"no encryption key: set DVC_NOTIFIER_ENCRYPTION_KEY or put it in {encryption_file} ({_GENERATE})"
        )
    hash_key = read_secret(settings.hash_key.get_secret_value() if settings.hash_key else None, hash_file)
    if hash_key is None:
        raise ConfigError(
            f"no phone hash key: set DVC_NOTIFIER_HASH_KEY or put it in {hash_file} ({_GENERATE}; an existing "
            "installation then runs `dvc-pulse notifier rotate-key` once, see docs/security.md)"
        )
    try:
        return PhoneVault(split_keys(encryption), hash_key)
    except InvalidKey as error:
        raise ConfigError(f"DVC_NOTIFIER_ENCRYPTION_KEY / DVC_NOTIFIER_HASH_KEY: {error}") from None


class HashKeyChanged(ConfigError):
    """The stored phone hashes were made with another hash key: opt-outs would silently stop matching."""


async def check_hash_key(sessions: async_sessionmaker[AsyncSession], vault: PhoneVault, now: datetime) -> None:
    """A new database records the hash key's fingerprint; a database whose hashes came from another key (or
    from the encryption key, before 2026-12) refuses to serve until `rotate-key` re-hashed them."""
    fingerprint = vault.hash_key_fingerprint()
    async with sessions.begin() as session:
        stored = await rekeying.stored_fingerprint(session)
        if stored == fingerprint:
            return
        if stored is None and not await rekeying.has_phone_hashes(session):
            await rekeying.record_fingerprint(session, fingerprint, now)
            return
    origin = "another hash key" if stored else "the encryption key (before the separate hash key)"
    raise HashKeyChanged(
        f"the stored phone hashes were made with {origin}, so opt-outs would not match: stop the notifier, run "
        "`dvc-pulse notifier rotate-key` with this hash key and the encryption keys (it re-hashes every phone it "
        "can decrypt), then start it again (docs/security.md, key rotation)"
    )
