"""Rules of one applied batch: each new event goes to its projection, dossiers fold onto their state.

A dossier folds incrementally only when its new events all sort after what it already folded; otherwise
(an out-of-order arrival) its whole history must be folded again (`refold`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState, latest, merge_procedure
from services.indicators.domain.dossier import DossierEvent, DossierState, apply_event, follows
from services.indicators.domain.events import ProjectedEvent

Latest = TypeVar("Latest", DocumentState, FeedbackState)


@dataclass
class ProjectedBatch:
    """New events of a batch by projection; registers already reduced to the latest value per key."""

    dossier_events: dict[str, list[DossierEvent]] = field(default_factory=lambda: defaultdict(list))
    procedures: dict[str, ProcedureState] = field(default_factory=dict)
    versions: list[ProcedureState] = field(default_factory=list)
    documents: dict[str, DocumentState] = field(default_factory=dict)
    feedback: dict[str, FeedbackState] = field(default_factory=dict)
    last_time: datetime | None = None  # the newest event time of the batch


def split_by_kind(events: Iterable[ProjectedEvent]) -> ProjectedBatch:
    batch = ProjectedBatch()
    dossier_events, procedures, documents, feedback = (
        batch.dossier_events,
        batch.procedures,
        batch.documents,
        batch.feedback,
    )
    last_time: datetime | None = None
    for projected in events:
        if isinstance(projected, DossierEvent):
            dossier_events[projected.dossier_code].append(projected)
            time = projected.time
        elif isinstance(projected, ProcedureState):
            code = projected.procedure_code
            procedures[code] = merge_procedure(procedures.get(code), projected)
            batch.versions.append(projected)
            time = projected.published_at
        elif isinstance(projected, DocumentState):
            if latest(documents.get(projected.document_id), projected):
                documents[projected.document_id] = projected
            time = projected.completed_at
        else:
            if latest(feedback.get(projected.dossier_code), projected):
                feedback[projected.dossier_code] = projected
            time = projected.submitted_at
        if last_time is None or time > last_time:
            last_time = time
    batch.last_time = last_time
    return batch


def fold_onto(
    current: dict[str, DossierState], events: dict[str, list[DossierEvent]], clock: WorkingClock
) -> tuple[list[DossierState], list[str]]:
    """(states folded incrementally, codes whose history must be folded again). Mutates the current states."""
    states: list[DossierState] = []
    refold: list[str] = []
    for code, new_events in events.items():
        new_events.sort(key=lambda event: event.key)
        state = current.get(code)
        if not follows(state, new_events[0]):
            refold.append(code)
            continue
        for event in new_events:
            state = apply_event(state, event, clock)
        if state is not None:
            states.append(state)
    return states, refold


def newer_than_stored(incoming: dict[str, Latest], stored_keys: dict[str, str]) -> list[Latest]:
    """The incoming registers that sort after the stored ones (the latest event wins)."""
    return [
        state for key, state in incoming.items() if key not in stored_keys or state.last_event_key > stored_keys[key]
    ]
