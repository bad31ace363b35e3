"""When a notification may be sent: quiet hours, the order of the rules, backoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.contracts.alerts import NotificationStatus
from services.notifier.domain.inbound import is_stop
from services.notifier.domain.policy import Facts, Limits, QuietHours, decide, decided_early, retry_delay, schedule
from services.notifier.domain.templates import Audience
from services.notifier.domain.text import ContentRefused
from tests.notifier.helpers import vn

QUIET = QuietHours.parse("21:00-07:00", "Asia/Ho_Chi_Minh")
NOW = vn("2026-03-02T10:00:00")
FACTS = Facts(
    audience=Audience.CITIZEN,
    urgent=False,
    event_time=NOW - timedelta(minutes=1),
    now=NOW,
    has_recipient=True,
    consent=True,
    phone_valid=True,
    opted_out=False,
    refused=None,
    duplicate=False,
    recipient_sent_that_day=0,
    dossier_sent_that_day=0,
)


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        ("2026-03-02T20:59:59", "2026-03-02T20:59:59"),
        ("2026-03-02T21:00:00", "2026-03-03T07:00:00"),
        ("2026-03-02T23:30:00", "2026-03-03T07:00:00"),
        ("2026-03-03T02:00:00", "2026-03-03T07:00:00"),
        ("2026-03-03T06:59:59", "2026-03-03T07:00:00"),
        ("2026-03-03T07:00:00", "2026-03-03T07:00:00"),
    ],
)
def test_message_waits_for_seven_when_it_falls_in_quiet_hours(moment: str, allowed: str) -> None:
    assert schedule(vn(moment), urgent=False, quiet=QUIET) == vn(allowed)


def test_urgent_message_is_not_held_when_it_falls_in_quiet_hours() -> None:
    assert schedule(vn("2026-03-03T02:00:00"), urgent=True, quiet=QUIET) == vn("2026-03-03T02:00:00")


def test_daytime_window_is_honoured_when_quiet_hours_do_not_wrap_midnight() -> None:
    lunch = QuietHours.parse("11:30-13:30", "Asia/Ho_Chi_Minh")
    assert lunch.next_allowed(vn("2026-03-02T12:00:00")) == vn("2026-03-02T13:30:00")
    assert not QuietHours.parse("00:00-00:00", "Asia/Ho_Chi_Minh").is_quiet(vn("2026-03-02T03:00:00"))


def test_quiet_hours_are_refused_when_malformed() -> None:
    with pytest.raises(ValueError, match="21:00-07:00"):
        QuietHours.parse("9pm-7am", "Asia/Ho_Chi_Minh")


def test_message_is_created_when_every_rule_allows_it() -> None:
    decision = decide(FACTS, NOW, Limits())
    assert (decision.status, decision.send_after) == (NotificationStatus.CREATED, NOW)


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"event_time": NOW - timedelta(hours=25), "consent": False}, "skipped", "stale_event"),
        ({"contact_pending": True, "has_recipient": False, "consent": False}, "created", "awaiting_contact"),
        ({"contact_pending": True, "refused": ContentRefused("too_long", "...")}, "validation-failed", "too_long"),
        ({"has_recipient": False, "phone_valid": False}, "skipped", "no_contact"),
        ({"consent": False, "phone_valid": False}, "skipped", "no_consent"),
        ({"phone_valid": False, "opted_out": True}, "validation-failed", "invalid_phone"),
        ({"opted_out": True, "duplicate": True}, "skipped", "opted_out"),
        ({"refused": ContentRefused("citizen_id", "..."), "duplicate": True}, "validation-failed", "citizen_id"),
        ({"duplicate": True, "recipient_sent_that_day": 9}, "skipped", "duplicate"),
        ({"recipient_sent_that_day": 4}, "skipped", "recipient_cap"),
        ({"dossier_sent_that_day": 3}, "skipped", "dossier_cap"),
    ],
)
def test_first_rule_that_stops_a_message_is_recorded_when_several_apply(
    change: dict[str, object], status: str, reason: str
) -> None:
    decision = decide(replace(FACTS, **change), NOW, Limits())
    assert (decision.status.value, decision.reason) == (status, reason)


def test_officer_needs_no_consent_and_has_its_own_cap_when_reminded() -> None:
    officer = replace(
        FACTS, audience=Audience.OFFICER, consent=False, recipient_sent_that_day=10, dossier_sent_that_day=9
    )
    assert decide(officer, NOW, Limits()).status is NotificationStatus.CREATED
    assert decide(replace(officer, has_recipient=False), NOW, Limits()).reason == "no_staff_phone"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"consent": False}, "no_consent"),
        ({"has_recipient": False, "consent": False}, "no_contact"),
        ({"event_time": NOW - timedelta(hours=25), "contact_pending": True}, "stale_event"),
    ],
)
def test_message_is_decided_before_its_text_and_lookups_when_age_recipient_or_consent_stop_it(
    changes: dict[str, object], reason: str
) -> None:
    facts = replace(FACTS, refused=ContentRefused("too_long", "..."), opted_out=True, duplicate=True, **changes)
    early = decided_early(facts.reach, Limits())
    assert early == decide(facts, NOW, Limits())
    assert early is not None
    assert (early.status, early.reason) == (NotificationStatus.SKIPPED, reason)


@pytest.mark.parametrize("changes", [{}, {"consent": False, "contact_pending": True}])
def test_message_needs_its_text_and_lookups_when_age_recipient_and_consent_let_it_through(
    changes: dict[str, object],
) -> None:
    assert decided_early(replace(FACTS, **changes).reach, Limits()) is None


def test_backoff_doubles_up_to_the_cap_with_jitter_when_attempts_fail() -> None:
    base, cap = timedelta(seconds=30), timedelta(minutes=30)
    highest = [retry_delay(n, base, cap, lambda low, high: high).total_seconds() for n in range(1, 9)]
    lowest = [retry_delay(n, base, cap, lambda low, high: low).total_seconds() for n in range(1, 9)]
    assert highest == [30, 60, 120, 240, 480, 960, 1800, 1800]
    assert lowest == [15, 30, 60, 120, 240, 480, 900, 900]


@pytest.mark.parametrize("reply", ["STOP", "stop.", "Hủy", "HUY DK", "Từ chối", "tc", "Dừng lại", "  huỷ  "])
def test_reply_opts_out_when_it_is_a_stop_keyword(reply: str) -> None:
    assert is_stop(reply)


@pytest.mark.parametrize("reply", ["", "Cảm ơn", "Tôi muốn hỏi về hồ sơ", "không hủy", "STOP gửi tin cho tôi nữa nhé"])
def test_reply_is_ignored_when_it_is_not_a_stop_keyword(reply: str) -> None:
    assert not is_stop(reply)
