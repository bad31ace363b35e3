"""What the services must answer, computed here from the simulator's output alone (never the services' code).

Indicators follow design §5 row by row over the simulator's ground truth (`--truth`: the recorded facts of
every dossier, procedure and document, and the simulator's own clock judgement per dossier: `on_time`,
`overdue_from`). SMS follow the notifier's documented rules over the events themselves (`--out`): the
default triggers (docs: services/notifier/config/triggers.yaml), consent and phone of the latest
submitted/accepted event, one message per distinct text, with the age, quiet-hours and cap rules switched
off by the test's settings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

Counts = dict[str, tuple[int, int]]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
LIVE_CODES = ("I15", "I16", "I17", "I18", "I19", "I20", "I21", "I22", "I23", "I24", "I25")  # the plan's (tasks)
SERVICE_CODES = (*LIVE_CODES, "SAT", "LATE_NO_APOLOGY")  # what the indicators service also measures


def _at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _ratio(rows: Iterable[bool]) -> tuple[int, int]:
    values = list(rows)
    return sum(values), len(values)


def expected_indicators(truth: Mapping[str, Any], start: datetime, end: datetime, now: datetime) -> Counts:
    """`{code: (numerator, denominator)}` for the period `[start, end)`, open dossiers judged at min(end, now)."""

    def within(value: str | None) -> bool:
        instant = _at(value)
        return instant is not None and start <= instant < end

    published = _at(truth["published_at"])
    procedures = truth["procedures"] if published is not None and published < end else []
    level = {procedure["code"]: procedure["level"] for procedure in truth["procedures"]}
    business = [p for p in procedures if p["business_related"]]
    eligible = [p for p in procedures if p["eligible_full_online"]]
    dossiers = truth["dossiers"]
    accepted = [d for d in dossiers if within(d["accepted_at"])]
    online_capable = [d for d in accepted if level[d["procedure_code"]] in ("full", "partial")]
    returned = [d for d in dossiers if within(d["returned_at"])]
    counts: Counts = {
        "I15": _ratio(p["boundary_free"] for p in procedures),
        "I16": _ratio(p["level"] in ("full", "partial") for p in business),
        "I17": _ratio(
            d["channel"] in ("online", "postal") and d["delivery"] in ("electronic", "postal") for d in returned
        ),
        "I18": _ratio(bool(d["digitized"] and d["result_digitized"]) for d in returned),
        "I19": _ratio(p["level"] == "full" for p in eligible),
        "I20": _ratio(d["channel"] == "online" for d in accepted),
        "I21": _ratio(d["channel"] == "online" for d in online_capable),
        "I22": _ratio(bool(d["result_electronic"]) for d in dossiers if within(d["processed_at"])),
        "I23": _ratio(bool(d["reused_data"]) for d in accepted),
        "I24": _ratio(bool(d["paid_online"]) for d in dossiers if within(d["paid_at"])),
        "I25": _ratio(doc["fully_electronic"] for doc in truth["documents"] if within(doc["completed_at"])),
    }
    judged_at = min(end, now)
    ended = [bool(d["on_time"]) for d in dossiers if d["accepted_at"] and within(d["ended_at"])]
    open_then = [d for d in dossiers if d["accepted_at"] and d["ended_at"] is None]
    still_open = [d for d in open_then if datetime.fromisoformat(d["accepted_at"]) < judged_at]
    not_overdue = [
        d["overdue_from"] is None or datetime.fromisoformat(d["overdue_from"]) >= judged_at for d in still_open
    ]
    counts["ONTIME"] = (sum(ended) + sum(not_overdue), len(ended) + len(not_overdue))
    counts["SAT"] = _ratio(bool(d["feedback_satisfied"]) for d in dossiers if within(d["feedback_at"]))
    late = [d for d in dossiers if d["accepted_at"] and within(d["ended_at"]) and not d["on_time"]]
    late += [d for d, timely in zip(still_open, not_overdue, strict=True) if not timely]
    counts["LATE_NO_APOLOGY"] = _ratio(not _apologised_in_time(d) for d in late)
    return counts


def _apologised_in_time(dossier: Mapping[str, Any]) -> bool:
    """An apology slip (`rescheduled`) issued at or before the due date as extended by pauses."""
    apology, due = _at(dossier["rescheduled_at"]), _at(dossier["extended_due_at"])
    return apology is not None and due is not None and apology <= due


# --- SMS -----------------------------------------------------------------------------------------------------

# dossier.<type> -> citizen template (the notifier's default triggers), and what makes the text differ
TEXT_VALUES: dict[str, tuple[str, ...]] = {
    "accepted": ("due_at",),
    "supplement_requested": ("reason",),
    "payment_requested": ("fee_amount",),
    "rescheduled": ("reason", "new_due_at"),
    "processed": ("result_electronic",),
    "returned": ("delivery",),
    "rejected": ("reason",),
    "stopped": ("reason",),
}
# how each template's text continues after "<Hồ sơ|hồ sơ> <dossier code> "
TEXT_MARKERS: dict[str, str] = {
    "accepted": "của ",  # "của ông/bà" or "của Quý tổ chức/doanh nghiệp" "đã được tiếp nhận"
    "supplement_requested": "cần bổ sung",
    "payment_requested": "cần nộp phí",
    "rescheduled": "chưa có kết quả đúng hẹn",
    "processed": "đã có kết quả",
    "returned": "đã được trả kết quả",
    "rejected": "không được tiếp nhận",
    "stopped": "đã dừng xử lý",
}
# the 11-digit mobile prefixes retired in 2018 and their replacements (Bộ TT&TT, public conversion table)
RENUMBERED = {
    **{f"016{d}": f"03{d}" for d in "23456789"},
    **{"0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078", "0123": "083", "0124": "084"},
    **{"0125": "085", "0127": "081", "0129": "082", "0186": "056", "0188": "058", "0199": "059"},
}


def mobile_e164(raw: str | None) -> str | None:
    """A Vietnamese mobile number in E.164 (old 11-digit numbers renumbered), or None if it cannot get an SMS."""
    if not raw or not raw.strip():
        return None
    number = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if number.startswith("+84"):
        number = "0" + number[3:]
    if len(number) == 11 and number[:4] in RENUMBERED:
        number = RENUMBERED[number[:4]] + number[4:]
    try:
        parsed = phonenumbers.parse(number, "VN")
    except phonenumbers.NumberParseException:
        return None
    mobile = phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if parsed.country_code != 84 or not phonenumbers.is_valid_number(parsed) or not mobile:
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@dataclass(frozen=True)
class Sms:
    dossier_code: str
    kind: str  # the dossier event type that triggers it: accepted, returned ...
    to: str


def _local_day(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(VN).date().isoformat()


def expected_sms(events: Iterable[Mapping[str, Any]]) -> tuple[list[Sms], dict[str, bool]]:
    """The citizen SMS the events must produce (one per distinct text), and each dossier's consent."""
    contacts: dict[str, tuple[datetime, str | None, bool]] = {}
    triggers: list[tuple[str, Mapping[str, Any]]] = []
    for event in events:
        kind = str(event["type"]).removeprefix("vn.gov.dvc.dossier.")
        data = event["data"]
        if kind in ("submitted", "accepted"):
            when = datetime.fromisoformat(event["time"])
            code = data["dossier_code"]
            if code not in contacts or when >= contacts[code][0]:
                contacts[code] = (when, data["applicant"]["phone"], bool(data["applicant"]["sms_consent"]))
        if kind in TEXT_VALUES:
            triggers.append((kind, data))
    seen: set[tuple[Any, ...]] = set()
    messages: list[Sms] = []
    for kind, data in triggers:
        code = data["dossier_code"]
        _, phone, consent = contacts.get(code, (None, None, False))
        to = mobile_e164(phone)
        if not consent or to is None:
            continue
        values = tuple(_local_day(data[name]) if name.endswith("_at") else data[name] for name in TEXT_VALUES[kind])
        identity = (to, code, kind, values)  # an identical text to the same phone is sent once
        if identity not in seen:
            seen.add(identity)
            messages.append(Sms(code, kind, to))
    return messages, {code: consent for code, (_, _, consent) in contacts.items()}


def classify(text: str) -> tuple[str, str]:
    """(dossier code, trigger kind) of an SMS text, read from the text alone."""
    for opening in ("Hồ sơ ", "hồ sơ "):
        if opening in text:
            rest = text.split(opening, 1)[1]
            code, _, tail = rest.partition(" ")
            for kind, marker in TEXT_MARKERS.items():
                if tail.startswith(marker):
                    return code, kind
    raise AssertionError(f"unrecognised SMS text: {text!r}")


def per_kind(messages: Iterable[Sms]) -> Counter[str]:
    return Counter(message.kind for message in messages)
