"""Opt-outs, retention, superseding and planning on in-memory ports (no database): the use cases of the service
layer with the fakes of their ports. The same rules run on SQLite and PostgreSQL in test_intake, test_retention
and test_superseding."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.phones import to_e164
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.phones import mask
from services.notifier.domain.policy import Limits, QuietHours
from services.notifier.domain.superseding import SUPERSEDED_REASON
from services.notifier.domain.templates import Audience
from services.notifier.service_layer.messages import Change, CountedRow, Purged, Step, Waiting
from services.notifier.service_layer.optouts import OptOuts
from services.notifier.service_layer.planning import Candidate, content_hash_of, decide_all
from services.notifier.service_layer.retention import Purger
from services.notifier.service_layer.steps import record_and_supersede
from services.notifier.service_layer.unit_of_work import Steps
from tests.notifier.helpers import vn

NOW = vn("2026-03-02T09:00:00")
PHONE = "+84912345678"


class InMemoryVault:
    def encrypt(self, value: str) -> bytes:
        return f"sealed:{value}".encode()

    def decrypt(self, token: bytes | None) -> str | None:
        return None if token is None else token.decode().removeprefix("sealed:")

    def hash(self, e164: str) -> str:
        return f"hash:{e164}"


class InMemoryMetrics:
    def __init__(self) -> None:
        self.entries: list[tuple[str, S]] = []

    def entered(self, template: str, status: S) -> None:
        self.entries.append((template, status))


class InMemoryOptOuts:
    def __init__(self, waiting: dict[str, list[str]]) -> None:
        self.waiting = waiting  # phone hash -> ids of messages waiting for it
        self.opted: dict[str, bytes | None] = {}

    async def add(
        self, phone_hash: str, source: str, at: datetime, phone_encrypted: bytes | None
    ) -> tuple[bool, list[Change]]:
        created = phone_hash not in self.opted
        self.opted.setdefault(phone_hash, phone_encrypted)
        skipped = self.waiting.pop(phone_hash, [])
        return created, [Change(key, "t", None, S.SKIPPED, {"reason": "opted_out"}, "opted_out") for key in skipped]


class InMemoryRetention:
    def __init__(self) -> None:
        self.cutoffs: list[datetime] = []

    async def purge(self, cutoff: datetime) -> Purged:
        self.cutoffs.append(cutoff)
        return Purged(notifications=2, contacts=1, receipts=0)


class InMemoryUnit:
    """One unit of work over whichever in-memory repositories a use case needs; `committed` counts commits."""

    def __init__(self, optouts: InMemoryOptOuts | None = None, retention: InMemoryRetention | None = None) -> None:
        self.optouts = optouts or InMemoryOptOuts({})
        self.retention = retention or InMemoryRetention()
        self.committed = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.committed += 1


class InMemoryIntake:
    def __init__(self, waiting: Sequence[Waiting] = (), counted: Sequence[CountedRow] = ()) -> None:
        self.latest: dict[str, dict[str, datetime]] = {}
        self.waiting = list(waiting)
        self.counted = list(counted)
        self.recent: set[str] = set()
        self.opted: set[str] = set()
        self.written: list[Change] = []

    async def record_steps(self, steps: Sequence[Step], at: datetime) -> None:
        for step in steps:
            kinds = self.latest.setdefault(step.dossier_code, {})
            if step.kind not in kinds or step.time > kinds[step.kind]:
                kinds[step.kind] = step.time

    async def steps(self, dossier_codes: Collection[str]) -> Steps:
        return {code: self.latest[code] for code in dossier_codes if code in self.latest}

    async def waiting_messages(self, dossier_codes: Collection[str]) -> list[Waiting]:
        return [message for message in self.waiting if message.dossier_code in dossier_codes]

    async def write(self, changes: Sequence[Change], at: datetime) -> list[Change]:
        self.written.extend(changes)
        return list(changes)

    async def opted_out(self, phone_hashes: Collection[str]) -> set[str]:
        return self.opted & set(phone_hashes)

    async def recent_content(self, content_hashes: Collection[str], since: datetime) -> set[str]:
        return self.recent & set(content_hashes)

    async def counted_between(
        self, phone_hashes: Collection[str], dossier_codes: Collection[str], start: datetime, end: datetime
    ) -> list[CountedRow]:
        return [row for row in self.counted if start <= row.send_after < end]


def candidate(text: str, phone_hash: str = "hash:1", dossier_code: str = "HS-1") -> Candidate:
    return Candidate(
        template_id="t",
        audience=Audience.CITIZEN,
        urgent=False,
        dossier_code=dossier_code,
        event_time=NOW,
        arrived_at=NOW,
        has_recipient=True,
        contact_pending=False,
        consent=True,
        e164=PHONE,
        phone_hash=phone_hash,
        text=text,
        refused=None,
        send_after=NOW,
    )


async def test_an_opt_out_skips_the_waiting_messages_and_counts_them_when_committed() -> None:
    unit, metrics = InMemoryUnit(InMemoryOptOuts({f"hash:{PHONE}": ["1", "2"]})), InMemoryMetrics()
    optouts = OptOuts(units=lambda: unit, vault=InMemoryVault(), to_e164=to_e164, now=lambda: NOW, metrics=metrics)

    result = await optouts.opt_out("0912 345 678", "api")
    again = await optouts.opt_out(PHONE, "api")

    assert (result.phone_masked, result.created, result.skipped_waiting) == (mask(PHONE), True, 2)
    assert (again.created, again.skipped_waiting) == (False, 0)
    assert unit.optouts.opted == {f"hash:{PHONE}": f"sealed:{PHONE}".encode()}
    assert metrics.entries == [("t", S.SKIPPED), ("t", S.SKIPPED)]
    assert unit.committed == 2


async def test_a_reply_opts_nobody_out_when_it_is_not_a_stop_word() -> None:
    unit = InMemoryUnit()
    optouts = OptOuts(units=lambda: unit, vault=InMemoryVault(), to_e164=to_e164, now=lambda: NOW)

    assert await optouts.inbound("outbox", PHONE, "cảm ơn") is None
    assert (unit.optouts.opted, unit.committed) == ({}, 0)


async def test_the_purge_removes_what_is_older_than_the_retention_when_run() -> None:
    unit = InMemoryUnit()

    purged = await Purger(lambda: unit, timedelta(days=90), lambda: NOW).run_once()

    assert purged == Purged(notifications=2, contacts=1, receipts=0)
    assert unit.retention.cutoffs == [NOW - timedelta(days=90)]
    assert unit.committed == 1


async def test_a_waiting_message_is_superseded_when_its_dossier_is_processed() -> None:
    waiting = Waiting("1", "t", "HS-1", "dossier.supplement_requested", NOW - timedelta(hours=2))
    intake = InMemoryIntake(waiting=[waiting])
    processed = Incoming("igate", "e-2", "dossier.processed", NOW - timedelta(hours=1), dossier_code="HS-1")

    steps, changes = await record_and_supersede(intake, [processed], NOW)

    assert steps == {"HS-1": {"dossier.processed": NOW - timedelta(hours=1)}}
    assert [(change.id, change.status, change.reason) for change in changes] == [("1", S.SUPERSEDED, SUPERSEDED_REASON)]


async def test_planned_messages_are_skipped_when_duplicate_opted_out_or_over_the_cap() -> None:
    intake = InMemoryIntake(counted=[CountedRow("hash:capped", "HS-9", "citizen", NOW) for _ in range(4)])
    intake.opted = {"hash:opted"}
    intake.recent = {content_hash_of("hash:1", "t", "seen")}
    candidates = [
        candidate("seen"),
        candidate("new", phone_hash="hash:opted"),
        candidate("new", phone_hash="hash:capped", dossier_code="HS-9"),
        candidate("new"),
    ]

    decisions = await decide_all(intake, candidates, NOW, QuietHours.parse("00:00-00:00", "Asia/Ho_Chi_Minh"), Limits())

    assert [(decision.status, decision.reason) for decision in decisions] == [
        (S.SKIPPED, "duplicate"),
        (S.SKIPPED, "opted_out"),
        (S.SKIPPED, "recipient_cap"),
        (S.CREATED, None),
    ]
