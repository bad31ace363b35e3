"""The claim use case on in-memory repositories (no database): who may still receive a due message, decided at
the moment of sending. The same rules run on SQLite and PostgreSQL in test_delivery and test_superseding."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from services.contracts.alerts import NotificationStatus as S
from services.notifier.domain.statuses import transition_allowed
from services.notifier.service_layer.claiming import claim_due
from services.notifier.service_layer.messages import Change, Due
from services.notifier.service_layer.unit_of_work import Steps
from tests.notifier.helpers import vn

NOW = vn("2026-03-02T09:00:00")


class InMemoryDeliveries:
    def __init__(self, due: Sequence[Due]) -> None:
        self.rows = {row.id: row for row in due}
        self.statuses: dict[str, S] = {row.id: S.CREATED for row in due}
        self.reasons: dict[str, str | None] = {}
        self.opted: set[str] = set()
        self.consent: dict[str, bool | None] = {}
        self.latest: dict[str, dict[str, datetime]] = {}

    async def due(self, now: datetime, limit: int, urgent_only: bool) -> list[Due]:
        return [row for key, row in sorted(self.rows.items()) if self.statuses[key] is S.CREATED][:limit]

    async def opted_out(self, phone_hashes: Collection[str]) -> set[str]:
        return self.opted & set(phone_hashes)

    async def consents(self, dossier_codes: Collection[str]) -> dict[str, bool | None]:
        return {code: self.consent[code] for code in dossier_codes if code in self.consent}

    async def steps(self, dossier_codes: Collection[str]) -> Steps:
        return {code: self.latest[code] for code in dossier_codes if code in self.latest}

    async def write(self, changes: Sequence[Change], at: datetime) -> list[Change]:
        applied = [change for change in changes if transition_allowed(self.statuses[change.id], change.status)]
        for change in applied:
            self.statuses[change.id], self.reasons[change.id] = change.status, change.reason
        return applied

    async def mark_sending(self, due: Sequence[Due], at: datetime) -> list[str]:
        moved = [row.id for row in due if self.statuses[row.id] is S.CREATED]
        self.statuses.update((key, S.SENDING) for key in moved)
        return moved


def due(key: str, audience: str = "citizen", **fields: object) -> Due:
    row = Due(key, "t", f"HS-{key}", audience, b"phone", f"hash-{key}", "text", "gsm7", 1, 0, None, None)
    return replace(row, **fields)  # type: ignore[arg-type]


async def test_an_opted_out_recipient_is_skipped_even_with_consent_when_claimed() -> None:
    deliveries = InMemoryDeliveries([due("1"), due("2")])
    deliveries.opted, deliveries.consent = {"hash-1"}, {"HS-1": True}

    claim = await claim_due(deliveries, NOW, 10, urgent_only=False)

    assert [item.id for item in claim.claimed] == ["2"]
    assert (deliveries.statuses["1"], deliveries.reasons["1"]) == (S.SKIPPED, "opted_out")
    assert claim.stopped[0].values == {"reason": "opted_out", "phone_encrypted": None, "text": None}


async def test_a_citizen_message_is_skipped_when_consent_was_withdrawn() -> None:
    deliveries = InMemoryDeliveries([due("1"), due("2"), due("3", audience="staff")])
    deliveries.consent = {"HS-1": False, "HS-3": False}  # HS-2: no contact recorded, so not refused

    claim = await claim_due(deliveries, NOW, 10, urgent_only=False)

    assert deliveries.statuses == {"1": S.SKIPPED, "2": S.SENDING, "3": S.SENDING}
    assert deliveries.reasons["1"] == "no_consent"
    assert [(item.id, item.attempts) for item in claim.claimed] == [("2", 1), ("3", 1)]


async def test_a_message_is_superseded_when_a_newer_step_of_its_dossier_was_recorded() -> None:
    event_time = NOW - timedelta(hours=2)
    waiting = due("1", event_kind="dossier.accepted", event_time=event_time)
    deliveries = InMemoryDeliveries([waiting, due("2", event_kind="dossier.accepted", event_time=event_time)])
    deliveries.latest = {"HS-1": {"dossier.processed": NOW - timedelta(hours=1)}}

    claim = await claim_due(deliveries, NOW, 10, urgent_only=False)

    assert (deliveries.statuses["1"], deliveries.reasons["1"]) == (S.SUPERSEDED, "superseded_by_newer_step")
    assert claim.stopped[0].values["detail"] == "newer step: dossier.processed"
    assert [item.id for item in claim.claimed] == ["2"]


async def test_nothing_is_claimed_when_no_message_is_due() -> None:
    claim = await claim_due(InMemoryDeliveries([]), NOW, 10, urgent_only=False)

    assert (claim.claimed, claim.stopped) == ([], [])
