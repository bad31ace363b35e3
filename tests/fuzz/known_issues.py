"""Findings the fuzzer may still make that another branch in flight fixes; each names the fix. The lead removes
an entry once that branch is merged, and the fuzz tests then hold the fix in place.

A finding is excused only when its operation and check match an entry; anything else fails the run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownIssue:
    service: str
    operation: str  # as schemathesis labels it: "GET /v1/indicators"
    checks: frozenset[str]
    fixed_by: str


# Empty since main carries w11-ingest (query dates bounded to 2000-2100) and w12-access (keys checked before the
# body): the date probes and the unauthenticated-write probes hold those fixes in place.
KNOWN_ISSUES: tuple[KnownIssue, ...] = ()


def known_issue(service: str, operation: str, check: str) -> KnownIssue | None:
    for issue in KNOWN_ISSUES:
        if issue.service == service and issue.operation == operation and check in issue.checks:
            return issue
    return None


# An event time whose year leaves 1-9999 once in UTC (`"time": "0001-01-01T00:00:00+01:00"`) is valid for the
# contract (AwareDatetime). Ingest now refuses it (time rules, w11-ingest), but a message already in DVC_EVENTS
# or published to the stream directly makes the indicators and notifier decoders raise OverflowError, not
# InvalidMessage: the batch fails before the dead-letter rules and the consumer retries it without end.
# To be fixed by w11-consume (any decode failure dead-lettered with its reason).
OUT_OF_RANGE_EVENT_TIME = "w11-consume (event time out of range: OverflowError in decode, not dead-lettered)"


def known_decode_failure(error: Exception) -> str | None:
    """The branch in flight that fixes this decode failure, or None when the failure is new."""
    if isinstance(error, OverflowError) and "out of range" in str(error):
        return OUT_OF_RANGE_EVENT_TIME
    return None
