"""The ports of the notifier's use cases besides the unit of work: the phone vault (encryption and keyed hash
of phone numbers) and the metrics a use case records. The adapters implement them (`adapters.crypto`,
`adapters.metrics`); the unit tests use in-memory ones."""

from __future__ import annotations

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


class StatusMetrics(Protocol):
    def entered(self, template: str, status: NotificationStatus) -> None:
        """A notification of `template` entered `status` (counted after the commit)."""
        ...
