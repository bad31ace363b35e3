"""Which newer step of a dossier makes a message not sent yet obsolete (status `superseded`, never sent).

A message is about the step its event recorded ("documents are missing", "the result is ready"). When a newer
step of the same dossier is known before it leaves, the text may contradict the dossier's current state: a
request for documents on a dossier already finished, a receipt promising a date the dossier has outlived.
The rule is keyed by the event kind of the waiting message (so it holds for any template a trigger file
attaches to that kind) and lists the dossier event kinds that supersede it when they are newer.

"Newer" is by event time (the producer's clock), never by arrival, so events arriving out of order give the
same outcome: the notifier keeps, per dossier, the latest time of each event kind it has seen. Two events of
the same time are ordered by the lifecycle: a superseding kind of the same time counts as newer (every pair
below goes forward in the lifecycle), the same kind needs a strictly newer time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

SUPERSEDED_REASON = "superseded_by_newer_step"

# The dossier is over (or its result is out): nothing said about an earlier step is worth an SMS any more.
_CLOSED = frozenset(
    {"dossier.processed", "dossier.returned", "dossier.rejected", "dossier.withdrawn", "dossier.stopped"}
)

SUPERSEDED_BY: Mapping[str, frozenset[str]] = {
    # The receipt's promised date is moot once the dossier is closed, and wrong once it was rescheduled
    # (the rescheduled message carries the new date). A supplement or payment request does not contradict it.
    "dossier.accepted": _CLOSED | {"dossier.rescheduled"},
    # Documents already received, or a newer request (with its own reason), or the dossier closed.
    "dossier.supplement_requested": _CLOSED | {"dossier.supplement_received", "dossier.supplement_requested"},
    # Already paid, a newer amount requested, or the dossier closed.
    "dossier.payment_requested": _CLOSED | {"dossier.paid", "dossier.payment_requested"},
    # A newer due date supersedes an older one; a closed dossier needs no apology for its date.
    "dossier.rescheduled": _CLOSED | {"dossier.rescheduled"},
    # "Come and collect it" is wrong once it was handed over, or the dossier was withdrawn or stopped.
    "dossier.processed": frozenset({"dossier.returned", "dossier.withdrawn", "dossier.stopped"}),
    # Officer early warnings: a dossier closed (or given a new date) is no longer at risk or overdue.
    "alerts.dossier.at_risk": _CLOSED | {"dossier.rescheduled"},
    "alerts.dossier.overdue": _CLOSED | {"dossier.rescheduled"},
    # dossier.returned, rejected, stopped (the last word about a dossier) and task alerts are never superseded.
}


def superseding_kinds(kind: str) -> frozenset[str]:
    return SUPERSEDED_BY.get(kind, frozenset())


def newer(candidate_kind: str, candidate_time: datetime, kind: str, time: datetime) -> bool:
    """Whether the step (candidate_kind, candidate_time) is newer than the message's (kind, time)."""
    return candidate_time > time or (candidate_time == time and candidate_kind != kind)


def superseded_by(kind: str, time: datetime, latest: Mapping[str, datetime]) -> str | None:
    """The newer dossier step that makes a waiting message of event `kind` (at `time`) obsolete, if any.

    `latest` maps each event kind seen for the dossier to its latest event time."""
    found: tuple[datetime, str] | None = None
    for candidate in sorted(superseding_kinds(kind)):
        seen = latest.get(candidate)
        if seen is not None and newer(candidate, seen, kind, time) and (found is None or seen > found[0]):
            found = (seen, candidate)
    return found[1] if found else None
