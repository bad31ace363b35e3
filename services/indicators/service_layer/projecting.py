"""The use case of the consumer and the rebuild: apply a batch of events to the projections exactly once.

One unit of work: record every (source, id) not yet recorded (a redelivered or re-sent event changes
nothing), fold the new events per key, write one row per key, advance the stream position, commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from services.indicators.domain.batch import ProjectedBatch, fold_onto, newer_than_stored, split_by_kind
from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.catalog import merge_procedure
from services.indicators.domain.dossier import DossierEvent, fold
from services.indicators.domain.stream_position import advance
from services.indicators.service_layer.messages import AppliedBatch, Incoming
from services.indicators.service_layer.unit_of_work import Identity, ProjectionUnitOfWork


def distinct(items: Sequence[Incoming]) -> tuple[dict[Identity, Incoming], int | None]:
    """The first item of each identity, and the highest stream sequence of the batch."""
    unique: dict[Identity, Incoming] = {}
    last_sequence: int | None = None
    for item in items:
        unique.setdefault((item.source, item.id), item)
        if item.sequence is not None and (last_sequence is None or item.sequence > last_sequence):
            last_sequence = item.sequence
    return unique, last_sequence


async def apply_batch(
    uow: ProjectionUnitOfWork,
    items: Sequence[Incoming],
    *,
    consumer: str,
    clock: WorkingClock,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AppliedBatch:
    """Apply `items` exactly once each, in one transaction that this use case commits."""
    async with uow:
        position = await uow.positions.get(consumer)
        unique, last_sequence = distinct(items)
        inserted = await uow.events.record_new(list(unique.values()))
        fresh = [item.projected for identity, item in unique.items() if identity in inserted]
        outcome = AppliedBatch(received=len(items), new_events=len(fresh), last_sequence=last_sequence)
        batch = split_by_kind(fresh)
        if batch.dossier_events:
            outcome.refolded = await _apply_dossiers(uow, batch.dossier_events, clock)
            outcome.dossier_codes = list(batch.dossier_events)
        await _apply_catalog(uow, batch)
        await uow.positions.save(
            advance(
                position,
                consumer,
                last_sequence=last_sequence,
                new_events=len(fresh),
                last_time=batch.last_time,
                now=now(),
            )
        )
        await uow.commit()
    return outcome


async def _apply_dossiers(uow: ProjectionUnitOfWork, events: dict[str, list[DossierEvent]], clock: WorkingClock) -> int:
    """Fold onto the stored states; dossiers that got an out-of-order event are folded again from history."""
    current = await uow.dossiers.get_many(list(events))
    states, refold = fold_onto(current, events, clock)
    if refold:
        history = await uow.events.dossier_history(refold)
        refolded = (fold(past, clock) for past in history.values())
        states.extend(state for state in refolded if state is not None)
    await uow.dossiers.save(states)
    return len(refold)


async def _apply_catalog(uow: ProjectionUnitOfWork, batch: ProjectedBatch) -> None:
    catalog = uow.catalog
    if batch.procedures:
        stored = await catalog.procedures(list(batch.procedures))
        merged = [merge_procedure(stored.get(code), state) for code, state in batch.procedures.items()]
        await catalog.save_procedures(merged)
        await catalog.record_versions(batch.versions)
    if batch.documents:
        documents = newer_than_stored(batch.documents, await catalog.document_keys(list(batch.documents)))
        if documents:
            await catalog.save_documents(documents)
    if batch.feedback:
        feedback = newer_than_stored(batch.feedback, await catalog.feedback_keys(list(batch.feedback)))
        if feedback:
            await catalog.save_feedback(feedback)
