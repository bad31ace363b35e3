"""`dvc-pulse notifier rotate-key`: every stored phone and name is re-encrypted with the newest encryption key
and every phone hash is recomputed with the configured hash key, in one transaction, then the hash key's
fingerprint is recorded. Opt-outs survive: their phone is decrypted (or, for opt-outs recorded before they kept
it, found among the phones the notifier holds by their old hash) and re-hashed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifier.service_layer.planning import content_hash_of
from services.notifier.service_layer.ports import RekeyingVault
from services.notifier.service_layer.unit_of_work import RekeyingUnitOfWork


@dataclass
class RotationReport:
    reencrypted: int = 0  # ciphertexts moved to the newest key
    rehashed: int = 0  # phone hashes recomputed with the hash key
    unreadable: int = 0  # ciphertexts no configured key decrypts (left as they are)
    unmatched_opt_outs: int = 0  # opt-outs whose phone is unknown: they keep their old hash


class _Rekeyer:
    def __init__(self, vault: RekeyingVault, to_e164: Callable[[str | None], str | None]) -> None:
        self.vault = vault
        self.to_e164 = to_e164
        self.report = RotationReport()
        self.phones_by_hash: dict[str, str] = {}

    def reencrypt(self, token: bytes | None) -> tuple[bytes | None, str | None]:
        """(the token under the newest key, its plaintext); an unreadable token comes back unchanged."""
        if token is None:
            return None, None
        token = bytes(token)
        plain = self.vault.decrypt(token)
        if plain is None:
            self.report.unreadable += 1
            return token, None
        if self.vault.is_current(token):
            return token, plain
        self.report.reencrypted += 1
        return self.vault.encrypt(plain), plain

    def read_phones(self, rows: Sequence[Any]) -> list[tuple[Any, bytes | None, str | None]]:
        """Each row with its phone under the newest key and in plain text (None when unreadable)."""
        return [(row, *self.reencrypt(row.phone_encrypted)) for row in rows]

    def learn(self, phone: str | None) -> None:
        """Remember a phone under its current and its old hashes, to recognise rows that lost their phone."""
        e164 = self.to_e164(phone) if phone else None
        if e164 is None:
            return
        self.phones_by_hash[self.vault.hash(e164)] = e164
        for old_hash in self.vault.legacy_hashes(e164):
            self.phones_by_hash[old_hash] = e164

    def phone_of(self, plain: str | None, old_hash: str | None) -> str | None:
        return plain or (self.phones_by_hash.get(old_hash) if old_hash else None)

    def contact_updates(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        updates = []
        for row in rows:
            phone, plain = self.reencrypt(row.phone_encrypted)
            name, _ = self.reencrypt(row.name_encrypted)
            self.learn(plain)
            if phone != row.phone_encrypted or name != row.name_encrypted:
                updates.append(
                    {
                        "key": row.dossier_code,
                        "phone": phone,
                        "name": name,
                        "old_phone": row.phone_encrypted,
                        "old_name": row.name_encrypted,
                    }
                )
        return updates

    def notification_updates(self, rows: Sequence[tuple[Any, bytes | None, str | None]]) -> list[dict[str, Any]]:
        updates = []
        for row, token, plain in rows:
            phone = self.phone_of(plain, row.phone_hash)
            new_hash = self.vault.hash(phone) if phone else row.phone_hash
            content = row.content_hash
            if new_hash != row.phone_hash:
                self.report.rehashed += 1
                if row.text is not None and new_hash is not None:
                    content = content_hash_of(new_hash, row.template_id, row.text)
            if token != row.phone_encrypted or new_hash != row.phone_hash:
                updates.append(
                    {
                        "key": row.id,
                        "phone": token,
                        "hash": new_hash,
                        "content": content,
                        "old_phone": row.phone_encrypted,
                        "old_hash": row.phone_hash,
                    }
                )
        return updates

    def opt_out_changes(
        self, rows: Sequence[tuple[Any, bytes | None, str | None]]
    ) -> tuple[list[str], list[dict[str, Any]]]:
        old_hashes: list[str] = []
        replacements: dict[str, dict[str, Any]] = {}
        for row, token, plain in rows:
            phone = self.phone_of(plain, row.phone_hash)
            if phone is None:
                self.report.unmatched_opt_outs += 1
                continue
            new_hash = self.vault.hash(phone)
            token = token if plain is not None else self.vault.encrypt(phone)
            if new_hash == row.phone_hash and token == row.phone_encrypted:
                continue
            self.report.rehashed += int(new_hash != row.phone_hash)
            old_hashes.append(row.phone_hash)
            replacements.setdefault(
                new_hash,
                {"phone_hash": new_hash, "phone_encrypted": token, "source": row.source, "created_at": row.created_at},
            )
        return old_hashes, list(replacements.values())


async def rotate_keys(
    units: Callable[[], RekeyingUnitOfWork],
    vault: RekeyingVault,
    to_e164: Callable[[str | None], str | None],
    now: datetime,
) -> RotationReport:
    rekeyer = _Rekeyer(vault, to_e164)
    async with units() as unit:
        store = unit.rekeying
        await store.update_contacts(rekeyer.contact_updates(await store.contact_rows()))
        notifications = rekeyer.read_phones(await store.notification_rows())
        opt_outs = rekeyer.read_phones(await store.opt_out_rows())
        for _, _, plain in (*notifications, *opt_outs):
            rekeyer.learn(plain)
        await store.update_notifications(rekeyer.notification_updates(notifications))
        await store.replace_opt_outs(*rekeyer.opt_out_changes(opt_outs))
        await store.record_fingerprint(vault.hash_key_fingerprint(), now)
        await unit.commit()
    return rekeyer.report
