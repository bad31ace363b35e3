"""The one transition table of notification statuses: every pair walked, in the domain and on the database
(the store refuses a forbidden change and writes no status event for it)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.delivery_store import write_changes
from services.notifier.adapters.tables import notifications, status_outbox
from services.notifier.domain.sending import ReceiptStatus
from services.notifier.domain.statuses import (
    LABELS_VI,
    TRANSITIONS,
    IllegalTransition,
    ensure_transition,
    receipt_applies,
    sources_of,
    transition_allowed,
)
from services.notifier.service_layer.messages import Change
from tests.factories import dossier_event
from tests.notifier.core_helpers import core
from tests.notifier.helpers import FakeClock, vn

RECEIPTS = {S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE}
ALLOWED = {
    S.CREATED: {S.CREATED, S.SENDING, S.SKIPPED, S.VALIDATION_FAILED, S.SUPERSEDED},
    S.SENDING: {S.CREATED, S.SENT, S.UNKNOWN, S.TECHNICAL_FAILURE} | RECEIPTS,
    S.SENT: RECEIPTS,
    S.UNKNOWN: {S.UNKNOWN, S.SENT} | RECEIPTS,
    S.TEMPORARY_FAILURE: {S.DELIVERED},
    S.DELIVERED: set(),
    S.PERMANENT_FAILURE: set(),
    S.TECHNICAL_FAILURE: set(),
    S.VALIDATION_FAILED: set(),
    S.SKIPPED: set(),
    S.SUPERSEDED: set(),
}
PAIRS = list(itertools.product(S, S))


def test_the_table_allows_exactly_the_documented_pairs_when_every_pair_is_walked() -> None:
    for current, new in PAIRS:
        assert transition_allowed(current, new) is (new in ALLOWED[current]), (current, new)
    assert {pair for pair in PAIRS if transition_allowed(*pair)} == TRANSITIONS


def test_a_forbidden_transition_raises_a_domain_error_when_every_pair_is_asked() -> None:
    for current, new in PAIRS:
        if new in ALLOWED[current]:
            assert ensure_transition(current, new) is new
            continue
        with pytest.raises(IllegalTransition) as refused:
            ensure_transition(current, new)
        assert (refused.value.current, refused.value.new) == (current, new)


def test_superseded_and_unknown_only_come_from_where_they_can_when_sources_are_asked() -> None:
    assert sources_of(S.SUPERSEDED) == {S.CREATED}  # never a message already handed to a provider
    assert sources_of(S.UNKNOWN) == {S.SENDING, S.UNKNOWN}  # never resent: unknown never goes back to created
    assert S.CREATED not in {new for current, new in TRANSITIONS if current is S.UNKNOWN}


def test_every_status_has_a_vietnamese_label_when_listed() -> None:
    assert set(LABELS_VI) == set(S)
    assert LABELS_VI[S.SUPERSEDED] == "Không gửi vì hồ sơ đã có bước mới hơn"
    assert LABELS_VI[S.UNKNOWN] == "Chưa rõ nhà mạng đã nhận tin hay chưa"


@pytest.mark.parametrize("receipt", list(ReceiptStatus))
def test_a_receipt_settles_an_unknown_outcome_when_it_arrives(receipt: ReceiptStatus) -> None:
    assert receipt_applies(S.UNKNOWN, receipt)
    assert not receipt_applies(S.SUPERSEDED, receipt)


async def test_the_store_writes_only_allowed_changes_when_every_pair_is_tried(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1"))
        [row] = await c.rows()
        refused = 0
        for current, new in PAIRS:
            clock.advance(timedelta(seconds=1))
            async with c.sessions.begin() as session:
                await session.execute(
                    update(notifications).where(notifications.c.id == row.id).values(status=current.value)
                )
                change = Change(row.id, row.template_id, row.dossier_code, new, {"detail": f"{current}->{new}"})
                applied = await write_changes(session, [change], clock())
                stored = (await session.execute(select(notifications.c.status))).scalar_one()
            if transition_allowed(current, new):
                assert (len(applied), stored) == (1, new.value), (current, new)
            else:
                refused += 1
                assert (applied, stored) == ([], current.value), (current, new)
        async with c.sessions() as session:
            events = (await session.execute(select(func.count()).select_from(status_outbox))).scalar_one()
        assert events == 1 + len(TRANSITIONS)  # `created` at intake, then one per allowed change
        assert refused == len(PAIRS) - len(TRANSITIONS)
