"""When, and whether, a notification may be sent: event age, recipient, consent, opt-out, content, caps,
quiet hours. Pure functions; the caller supplies the facts and the clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.contracts.alerts import NotificationStatus
from services.notifier.domain.statuses import AWAITING_CONTACT
from services.notifier.domain.templates import Audience
from services.notifier.domain.text import ContentRefused

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """Local hours during which non-urgent messages wait (default 21:00-07:00). start == end: never quiet."""

    start: time
    end: time
    timezone: str

    @classmethod
    def parse(cls, window: str, timezone: str) -> QuietHours:
        match = _WINDOW.match(window)
        if match is None:
            raise ValueError(f"quiet hours must look like 21:00-07:00, got {window!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"quiet hours out of range: {window!r}")
        ZoneInfo(timezone)
        return cls(time(h1, m1), time(h2, m2), timezone)

    def is_quiet(self, moment: datetime) -> bool:
        if self.start == self.end:
            return False
        at = moment.astimezone(ZoneInfo(self.timezone)).time()
        if self.start < self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` itself when it is not quiet, else the end of the quiet period it falls in."""
        if not self.is_quiet(moment):
            return moment
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        end_today = datetime.combine(local.date(), self.end, zone)
        return end_today if end_today > local else datetime.combine(local.date() + timedelta(days=1), self.end, zone)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class Limits:
    max_event_age: timedelta = timedelta(hours=24)
    citizen_daily_cap: int = 4  # per recipient per local day
    officer_daily_cap: int = 20
    dossier_daily_cap: int = 3  # citizen messages about one dossier per local day
    duplicate_window: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Facts:
    """Everything known about one would-be notification when its event arrives."""

    audience: Audience
    urgent: bool
    event_time: datetime
    now: datetime
    has_recipient: bool
    consent: bool
    phone_valid: bool
    opted_out: bool
    refused: ContentRefused | None
    duplicate: bool
    recipient_sent_that_day: int
    dossier_sent_that_day: int
    contact_pending: bool = False  # citizen message taken in before its dossier's submitted/accepted

    @property
    def reach(self) -> Reach:
        return Reach(self.audience, self.event_time, self.now, self.has_recipient, self.consent, self.contact_pending)


@dataclass(frozen=True)
class Reach:
    """What is known of a would-be notification before its text is rendered, its phone number normalised or the
    store asked anything (opt-outs, duplicates, caps)."""

    audience: Audience
    event_time: datetime
    now: datetime
    has_recipient: bool
    consent: bool
    contact_pending: bool = False


@dataclass(frozen=True)
class Decision:
    status: NotificationStatus
    reason: str | None = None
    detail: str | None = None
    send_after: datetime | None = None


def schedule(now: datetime, urgent: bool, quiet: QuietHours) -> datetime:
    return now if urgent else quiet.next_allowed(now)


def decided_early(reach: Reach, limits: Limits) -> Decision | None:
    """The first rules of `decide` (event age, recipient, consent): when one of them stops the message, nothing
    else about it needs computing or looking up (most dossiers have no SMS consent). None: `decide` goes on."""
    age = reach.now - reach.event_time
    if age > limits.max_event_age:
        return Decision(NotificationStatus.SKIPPED, "stale_event", f"event is {int(age.total_seconds() // 3600)} h old")
    if reach.contact_pending:  # the text decides (refused or awaiting the contact)
        return None
    if not reach.has_recipient:
        reason = "no_contact" if reach.audience is Audience.CITIZEN else "no_staff_phone"
        return Decision(NotificationStatus.SKIPPED, reason)
    if reach.audience is Audience.CITIZEN and not reach.consent:
        return Decision(NotificationStatus.SKIPPED, "no_consent")
    return None


def decide(facts: Facts, send_after: datetime, limits: Limits) -> Decision:
    """The first rule that stops the message wins; order matters (a replayed event never looks further)."""
    skipped, invalid = NotificationStatus.SKIPPED, NotificationStatus.VALIDATION_FAILED
    early = decided_early(facts.reach, limits)
    if early is not None:
        return early
    if facts.contact_pending:  # events may arrive out of order: wait for the contact (the sweep ends the wait)
        if facts.refused is not None:
            return Decision(invalid, facts.refused.reason, facts.refused.detail)
        return Decision(NotificationStatus.CREATED, AWAITING_CONTACT)
    if not facts.phone_valid:
        return Decision(invalid, "invalid_phone")
    if facts.opted_out:
        return Decision(skipped, "opted_out")
    if facts.refused is not None:
        return Decision(invalid, facts.refused.reason, facts.refused.detail)
    if facts.duplicate:
        return Decision(skipped, "duplicate")
    cap = limits.citizen_daily_cap if facts.audience is Audience.CITIZEN else limits.officer_daily_cap
    if facts.recipient_sent_that_day >= cap:
        return Decision(skipped, "recipient_cap", f"{cap} messages a day")
    if facts.audience is Audience.CITIZEN and facts.dossier_sent_that_day >= limits.dossier_daily_cap:
        return Decision(skipped, "dossier_cap", f"{limits.dossier_daily_cap} messages a day")
    return Decision(NotificationStatus.CREATED, send_after=send_after)


def retry_delay(attempts: int, base: timedelta, cap: timedelta, uniform: Callable[[float, float], float]) -> timedelta:
    """Exponential backoff with jitter after the n-th failed attempt (1-based): in [ceiling/2, ceiling]."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** max(0, attempts - 1))
    return timedelta(seconds=uniform(ceiling / 2, ceiling))
