"""Projections of procedures, documents and feedback: the latest event (by `utc_key_text`) wins.

These are last-writer-wins registers keyed by procedure code, document id and dossier code, so any
arrival order converges; a procedure keeps the time it was FIRST published.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ProcedureState:
    procedure_code: str
    name: str
    field: str
    level: str  # full / partial / none
    eligible_full_online: bool
    boundary_free: bool
    business_related: bool
    has_fee: bool
    time_limit_value: float
    time_limit_unit: str
    published_at: datetime
    last_event_key: str


@dataclass(frozen=True, slots=True)
class DocumentState:
    document_id: str
    agency: str
    fully_electronic: bool
    completed_at: datetime
    last_event_key: str


@dataclass(frozen=True, slots=True)
class FeedbackState:
    dossier_code: str
    satisfied: bool
    submitted_at: datetime
    last_event_key: str


def merge_procedure(current: ProcedureState | None, incoming: ProcedureState) -> ProcedureState:
    """The newer version's attributes, published at the earliest time seen."""
    if current is None:
        return incoming
    newer, older = (incoming, current) if incoming.last_event_key > current.last_event_key else (current, incoming)
    return replace(newer, published_at=min(newer.published_at, older.published_at))


def latest(current: DocumentState | FeedbackState | None, incoming: DocumentState | FeedbackState) -> bool:
    """True when `incoming` replaces `current` (it sorts after it)."""
    return current is None or incoming.last_event_key > current.last_event_key
