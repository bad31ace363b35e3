"""The intake use case on an in-memory unit of work (no database): events become notification rows once, the
contact is kept sealed, the consumer position follows. The same flow runs on SQLite and PostgreSQL in
test_intake."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from services.contracts.alerts import NotificationStatus as S
from services.contracts.events import parse_event
from services.notifier.adapters.config_files import load_templates, load_triggers
from services.notifier.adapters.phones import to_e164
from services.notifier.domain.incoming import Incoming, from_event
from services.notifier.domain.policy import Limits, QuietHours
from services.notifier.service_layer.handlers import Intake, Transition
from services.notifier.service_layer.messages import StoredContact
from tests.factories import dossier_event
from tests.notifier.helpers import vn
from tests.notifier.test_ports_in_memory import InMemoryIntake, InMemoryUnit, InMemoryVault

TIMEZONE = "Asia/Ho_Chi_Minh"
NOW = vn("2026-03-02T08:15:30")


class InMemoryIntakeStore(InMemoryIntake):
    def __init__(self) -> None:
        super().__init__()
        self.processed: set[tuple[str, str]] = set()
        self.stored_contacts: dict[str, dict[str, Any]] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.positions: dict[str, int] = {}

    async def record_processed(self, items: Sequence[Incoming], at: datetime) -> list[Incoming]:
        new = {item.identity: item for item in items if item.identity not in self.processed}
        self.processed.update(new)
        return list(new.values())

    async def contacts(self, dossier_codes: Collection[str]) -> dict[str, StoredContact]:
        fields = ("phone_encrypted", "sms_consent", "event_time", "applicant_kind", "channel")
        return {
            code: StoredContact(code, *(row[name] for name in fields))
            for code, row in self.stored_contacts.items()
            if code in dossier_codes
        }

    async def upsert_contacts(self, rows: Sequence[dict[str, Any]]) -> None:
        self.stored_contacts.update((row["dossier_code"], row) for row in rows)

    async def awaiting_contact(self, dossier_codes: Collection[str]) -> list[Any]:
        return []

    async def insert_notifications(self, rows: Sequence[dict[str, Any]], at: datetime) -> set[str]:
        new = {row["id"]: row for row in rows if row["id"] not in self.rows}
        self.rows.update(new)
        return set(new)

    async def save_position(self, consumer: str, sequence: int, at: datetime) -> None:
        self.positions[consumer] = max(sequence, self.positions.get(consumer, 0))


class IntakeUnit(InMemoryUnit):
    def __init__(self) -> None:
        super().__init__()
        self.intake = InMemoryIntakeStore()


class NoStaff:
    def refresh(self) -> None:
        return None

    def lookup(self, *codes: str | None) -> None:
        return None


def intake_on(unit: IntakeUnit) -> Intake:
    return Intake(
        units=lambda: unit,
        vault=InMemoryVault(),
        to_e164=to_e164,
        staff=NoStaff(),
        triggers=load_triggers(load_templates()),
        quiet=QuietHours.parse("21:00-07:00", TIMEZONE),
        limits=Limits(),
        now=lambda: NOW,
    )


def delivered(event: dict[str, Any], sequence: int) -> Incoming:
    item = from_event(parse_event(event), TIMEZONE)
    return Incoming(**{**item.__dict__, "sequence": sequence})


async def test_an_accepted_dossier_plans_one_sealed_message_when_its_event_is_delivered_twice() -> None:
    unit = IntakeUnit()
    intake = intake_on(unit)

    event = dossier_event("dossier.accepted", "HS-1")
    first = await intake.apply([delivered(event, 7), delivered(event, 7)], "notifier-dossiers")
    again = await intake.apply([delivered(event, 8)], "notifier-dossiers")

    assert first == [Transition("citizen.accepted", S.CREATED)]
    assert again == []
    [row] = unit.intake.rows.values()
    assert (row["status"], row["dossier_code"], row["phone_hash"]) == ("created", "HS-1", "hash:+84912345678")
    assert row["phone_encrypted"] == b"sealed:+84912345678"
    assert "HS-1" in row["text"]
    assert unit.intake.stored_contacts["HS-1"]["phone_encrypted"] == b"sealed:0912345678"
    assert unit.intake.positions == {"notifier-dossiers": 8}
    assert unit.committed == 2
