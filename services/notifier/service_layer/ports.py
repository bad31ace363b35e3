"""The ports of the notifier's use cases besides the unit of work: the phone vault (encryption and keyed hash
of phone numbers), the staff directory, the metrics a use case records and the relay publishing status events.
The adapters implement them (`adapters.crypto`, `adapters.staff`, `adapters.metrics`, `adapters.status_relay`);
the unit tests use in-memory ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from services.contracts.alerts import NotificationStatus


class PhoneVault(Protocol):
    def encrypt(self, value: str) -> bytes: ...

    def decrypt(self, token: bytes | None) -> str | None:
        """None for None."""
        ...

    def hash(self, e164: str) -> str:
        """The keyed hash of a phone in E.164 (opt-outs, caps and duplicates compare these)."""
        ...


class RekeyingVault(PhoneVault, Protocol):
    """What a key rotation needs besides encrypting and hashing."""

    def is_current(self, token: bytes) -> bool:
        """Whether `token` is already encrypted with the newest key."""
        ...

    def legacy_hashes(self, e164: str) -> list[str]:
        """The hashes `e164` had under the old hash keys (derived from the encryption keys)."""
        ...

    def hash_key_fingerprint(self) -> str: ...


class StaffMember(Protocol):
    @property
    def code(self) -> str:
        """The officer or unit code it was found under (pseudonymous)."""
        ...

    @property
    def phone(self) -> str: ...


class StaffDirectory(Protocol):
    def refresh(self) -> None:
        """Reload the directory if its source changed."""
        ...

    def lookup(self, *codes: str | None) -> StaffMember | None:
        """The first of these codes with a phone."""
        ...


class StatusMetrics(Protocol):
    def entered(self, template: str, status: NotificationStatus) -> None:
        """A notification of `template` entered `status` (counted after the commit)."""
        ...


class DispatchMetrics(StatusMetrics, Protocol):
    def send_answered(self, provider: str, outcome: str, seconds: float) -> None:
        """A provider answered one send (`outcome`: accepted, unknown, refused, failed) after `seconds`."""
        ...

    def segments_sent(self, provider: str, encoding: str, segments: int) -> None: ...

    def store_measured(self, queue_depth: Mapping[str, int], sent_in_store: int) -> None:
        """The waiting notifications by state and the sent ones, as counted in the store."""
        ...

    def status_backlog_measured(self, pending: int) -> None: ...


class StatusRelay(Protocol):
    async def flush(self) -> int:
        """Publish every pending status event; returns how many were published."""
        ...

    async def pending(self) -> int: ...
