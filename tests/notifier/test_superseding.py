"""No stale SMS: a message not sent yet is `superseded` (never sent) when a newer step of its dossier makes it
obsolete, decided when the newer event arrives and again when the dispatcher claims it. Real database, real
outbox provider (the texts asserted are the lines written to the outbox file)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notifier.adapters.dossier_steps import record_steps
from services.notifier.adapters.providers import OutboxSettings, build_providers, read_outbox
from services.notifier.domain.superseding import superseded_by
from services.notifier.service_layer.messages import Step
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.core_helpers import Core, core
from tests.notifier.helpers import FakeClock, connected, eventually, publish, running_notifier, settings_for, vn

pytestmark = pytest.mark.timeout(60)
CENTRE = "Trung tâm Phục vụ hành chính công xã Lâm Thao"
ACCEPTED = f"{CENTRE}: Hồ sơ HS-1 của ông/bà đã được tiếp nhận. Hẹn trả kết quả ngày 05/03/2026."
PROCESSED = f"{CENTRE}: Hồ sơ HS-1 đã có kết quả. Kết quả điện tử được gửi theo hình thức đã đăng ký khi nộp hồ sơ."


@asynccontextmanager
async def outbox_core(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[tuple[Core, Path]]:
    path = tmp_path / "sms-outbox.jsonl"
    providers = build_providers([OutboxSettings(path=path, immediate_receipt=False)])
    async with core(database_url, clock, sender=providers.provider) as c:
        yield c, path
    await providers.close()


def burst(start: datetime, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """One event per kind for dossier HS-1, one second apart (event time), in the given order."""
    return [
        dossier_event(kind, "HS-1", time=(start + timedelta(seconds=number)).isoformat(), event_id=f"HS-1/{kind}")
        for number, kind in enumerate(kinds)
    ]


async def statuses(c: Core) -> dict[str, tuple[str, str | None]]:
    return {row.event_kind: (row.status, row.reason) for row in await c.rows(dossier_code="HS-1")}


STEPS = ["dossier.accepted", "dossier.supplement_requested", "dossier.supplement_received", "dossier.processed"]


async def test_only_the_result_is_sent_when_a_finished_dossiers_steps_arrive_together(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T10:00:05"))
    async with outbox_core(database_url, clock, tmp_path) as (c, outbox):
        await c.take(*burst(vn("2026-03-02T10:00:00"), STEPS))  # one batch: the same second
        await c.dispatcher.run_once()

        assert [line["text"] for line in read_outbox(outbox)] == [PROCESSED]
        assert await statuses(c) == {
            "dossier.accepted": ("superseded", "superseded_by_newer_step"),
            "dossier.supplement_requested": ("superseded", "superseded_by_newer_step"),
            "dossier.processed": ("sent", None),
        }
        [request] = await c.rows(event_kind="dossier.supplement_requested")
        assert (request.text, request.phone_encrypted, request.detail) == (None, None, "newer step: dossier.processed")


@pytest.mark.parametrize("order", ["in order", "newest first", "reversed"])
async def test_only_the_result_is_sent_when_the_steps_arrive_one_by_one_in_any_order(
    database_url: str, tmp_path: Path, order: str
) -> None:
    events = burst(vn("2026-03-02T10:00:00"), STEPS)
    arrival = {"in order": events, "newest first": [events[3], *events[:3]], "reversed": events[::-1]}[order]
    clock = FakeClock(vn("2026-03-02T10:00:05"))
    async with outbox_core(database_url, clock, tmp_path) as (c, outbox):
        for event in arrival:  # separate batches (transactions), nothing sent in between
            await c.take(event)
        await c.dispatcher.run_once()

        assert [line["text"] for line in read_outbox(outbox)] == [PROCESSED]
        assert (await statuses(c))["dossier.supplement_requested"][0] == "superseded"


async def test_only_the_result_is_sent_at_seven_when_a_finished_dossiers_burst_arrived_at_night(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T22:00:05"))
    settings = settings_for(private_nats.url, database_url, tmp_path)
    async with connected(private_nats.url) as (_client, js), running_notifier(settings, clock) as notifier:
        await publish(js, burst(vn("2026-03-02T22:00:00"), STEPS))

        async def held() -> list[dict[str, Any]]:
            rows = await notifier.notifications(dossier_code="HS-1")
            return rows if {row["event_kind"] for row in rows} == {*STEPS} - {"dossier.supplement_received"} else []

        await eventually(held)
        clock.set(vn("2026-03-03T07:00:00"))
        notifier.dispatcher.poke()

        async def settled() -> dict[str, dict[str, Any]]:
            rows = {row["event_kind"]: row for row in await notifier.notifications(dossier_code="HS-1")}
            return rows if rows["dossier.processed"]["status"] == "delivered" else {}

        rows = await eventually(settled)

        assert [line["text"] for line in notifier.outbox()] == [PROCESSED]
        assert {kind: row["status"] for kind, row in rows.items()} == {
            "dossier.accepted": "superseded",
            "dossier.supplement_requested": "superseded",
            "dossier.processed": "delivered",
        }
        assert rows["dossier.accepted"]["status_label"] == "Không gửi vì hồ sơ đã có bước mới hơn"


async def test_receipt_is_sent_and_the_answered_request_is_not_when_messages_were_held_through_quiet_hours(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T21:10:00"))
    async with outbox_core(database_url, clock, tmp_path) as (c, outbox):
        await c.take(dossier_event("dossier.accepted", "HS-1", time=vn("2026-03-02T21:09:00").isoformat()))
        clock.set(vn("2026-03-02T21:40:00"))
        await c.take(dossier_event("dossier.supplement_requested", "HS-1", time=vn("2026-03-02T21:39:00").isoformat()))
        await c.dispatcher.run_once()  # quiet hours: both held until 07:00
        clock.set(vn("2026-03-03T06:40:00"))
        await c.take(dossier_event("dossier.supplement_received", "HS-1", time=vn("2026-03-03T06:39:00").isoformat()))
        clock.set(vn("2026-03-03T07:00:00"))
        await c.dispatcher.run_once()

        # the receipt still holds (accepted, due date); the request for documents was answered overnight
        assert [line["text"] for line in read_outbox(outbox)] == [ACCEPTED]
        assert await statuses(c) == {
            "dossier.accepted": ("sent", None),
            "dossier.supplement_requested": ("superseded", "superseded_by_newer_step"),
        }


async def test_only_the_newest_due_date_is_sent_when_a_dossier_is_rescheduled_twice(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-04T09:00:05"))
    first = dossier_event("dossier.rescheduled", "HS-1", time=vn("2026-03-04T10:00:00").isoformat())
    second = dossier_event(
        "dossier.rescheduled",
        "HS-1",
        time=vn("2026-03-04T10:00:01").isoformat(),
        new_due_at="2026-03-12T17:00:00+07:00",
    )
    async with outbox_core(database_url, clock, tmp_path) as (c, outbox):
        await c.take(dossier_event("dossier.accepted", "HS-1", time=vn("2026-03-04T09:00:00").isoformat()))
        await c.dispatcher.run_once()
        clock.set(vn("2026-03-04T10:00:05"))
        await c.take(second, first)  # the older one arrives last
        await c.dispatcher.run_once()

        texts = [line["text"] for line in read_outbox(outbox)]
        assert texts[0] == ACCEPTED
        assert len(texts) == 2
        assert texts[1].endswith("Hẹn trả kết quả mới: ngày 12/03/2026.")


async def test_a_message_is_superseded_at_claim_time_when_a_newer_step_is_known_only_then(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T21:10:00"))
    async with outbox_core(database_url, clock, tmp_path) as (c, outbox):
        await c.take(dossier_event("dossier.supplement_requested", "HS-1", time=vn("2026-03-02T21:09:00").isoformat()))
        await c.take(dossier_event("dossier.submitted", "HS-1", time=vn("2026-03-02T08:00:00").isoformat()))
        async with c.sessions.begin() as session:  # a step recorded outside this intake (another replica's)
            await record_steps(session, [Step("HS-1", "dossier.returned", vn("2026-03-03T06:00:00"))], clock())
        clock.set(vn("2026-03-03T07:00:00"))
        outcome = await c.dispatcher.run_once()

        assert read_outbox(outbox) == []
        assert outcome.superseded == 1
        assert (await statuses(c))["dossier.supplement_requested"] == ("superseded", "superseded_by_newer_step")


async def test_a_late_older_message_still_counts_as_stale_when_it_is_a_replay(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-05T10:00:00"))
    async with outbox_core(database_url, clock, tmp_path) as (c, outbox):
        await c.take(*burst(vn("2026-03-02T10:00:00"), ["dossier.accepted", "dossier.processed"]))
        await c.dispatcher.run_once()

        assert read_outbox(outbox) == []
        assert {status for status, _ in (await statuses(c)).values()} == {"skipped"}


T = vn("2026-03-02T10:00:00")


@pytest.mark.parametrize(
    ("waiting", "newer", "superseded"),
    [
        ("dossier.accepted", "dossier.processed", True),
        ("dossier.accepted", "dossier.rescheduled", True),
        ("dossier.accepted", "dossier.supplement_requested", False),  # the receipt does not contradict it
        ("dossier.accepted", "dossier.payment_requested", False),
        ("dossier.supplement_requested", "dossier.supplement_received", True),
        ("dossier.supplement_requested", "dossier.returned", True),
        ("dossier.supplement_requested", "dossier.payment_requested", False),
        ("dossier.payment_requested", "dossier.paid", True),
        ("dossier.processed", "dossier.returned", True),
        ("dossier.returned", "dossier.stopped", False),  # the last word about a dossier is never superseded
        ("alerts.dossier.overdue", "dossier.processed", True),
        ("alerts.task.overdue", "dossier.processed", False),
    ],
)
def test_the_rule_decides_by_the_kind_of_the_newer_step_when_one_is_known(
    waiting: str, newer: str, superseded: bool
) -> None:
    later = {newer: T + timedelta(seconds=1)}
    earlier = {newer: T - timedelta(seconds=1)}

    assert (superseded_by(waiting, T, later) == newer) is superseded
    assert superseded_by(waiting, T, earlier) is None  # an older step never supersedes


def test_a_step_of_the_same_time_supersedes_only_when_it_is_another_kind() -> None:
    assert superseded_by("dossier.supplement_requested", T, {"dossier.processed": T}) == "dossier.processed"
    assert superseded_by("dossier.rescheduled", T, {"dossier.rescheduled": T}) is None  # itself
    assert superseded_by("dossier.rescheduled", T, {"dossier.rescheduled": T + timedelta(seconds=1)}) is not None
