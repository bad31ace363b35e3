"""Whether a due message may still leave: the recipient's opt-out and the applicant's consent are read at the
moment of sending, since either may have changed after the message was planned."""

from __future__ import annotations

OPTED_OUT = "opted_out"
NO_CONSENT = "no_consent"


def blocked_reason(*, audience: str, opted_out: bool, consent: bool | None) -> str | None:
    """The reason a message must not leave, or None. An opt-out always wins (even over a held message); only a
    citizen's message needs the applicant's consent, and only an explicit refusal blocks it (no record: sent)."""
    if opted_out:
        return OPTED_OUT
    if audience == "citizen" and consent is False:
        return NO_CONSENT
    return None
