"""Use case of the portal's dossier-sync payloads (`POST /v1/dvcqg`, `dvc-pulse import --format dvcqg`): map
every record with what is remembered of its dossier, validate the events like any event, remember, publish.

The memos are saved before publishing: a retry after a 503 then finds the same status (no regression) and the
same times for undated statuses, so it derives the same events with the same ids."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from services.contracts.events import CloudEvent
from services.ingest.domain.dvcqg import (
    SNAPSHOT_SERVICE,
    DossierMemo,
    Payload,
    PayloadError,
    RecordError,
    RecordOutcome,
    ResultCode,
    Unmapped,
    dossier_code,
    read_payload,
)
from services.ingest.domain.dvcqg_events import Context, map_snapshot, map_step
from services.ingest.domain.keys import KeySpec
from services.ingest.domain.time_rules import TimeRules, TimeWindow
from services.ingest.domain.validation import FieldError, Mode, Reason, Rejected, check_times, mapping_event
from services.ingest.service_layer.handlers import Ingest
from services.ingest.service_layer.ports import DossierStateStore, MappingSource

INGRESS = "dvcqg"
DVCQG_SOURCE_SUFFIX = ":dvcqg"


@dataclass(frozen=True)
class Mapped:
    """One record's outcome and its validated events."""

    outcome: RecordOutcome
    events: Sequence[CloudEvent] = ()


def _validated(outcome: RecordOutcome, window: TimeWindow) -> Mapped:
    try:
        events = [mapping_event(raw) for raw in outcome.events]
        check_times(events, window, Mode.STRUCTURED)
    except Rejected as rejection:
        reasons = "; ".join(f"{error.field}: {error.reason}" for error in rejection.errors[:3]) or rejection.detail
        return Mapped(RecordOutcome(outcome.dossier_code, ResultCode.REFUSED_BY_RULES, reasons))
    return Mapped(outcome, events)


def map_records(payload: Payload, store: DossierStateStore, context: Context, window: TimeWindow) -> list[Mapped]:
    """Every record in order (several records of one dossier see each other's memo); remembers the memos."""
    codes = []
    for record in payload.records:
        try:
            codes.append(dossier_code(record))
        except RecordError:
            continue
    memos: dict[str, DossierMemo] = store.load(context.source, codes)
    changed: dict[str, DossierMemo] = {}
    unmapped: list[Unmapped] = []
    mapper = map_snapshot if payload.service == SNAPSHOT_SERVICE else map_step
    results = []
    for record in payload.records:
        try:
            outcome = mapper(record, memos.get(dossier_code(record)), context)
        except RecordError as error:
            results.append(Mapped(RecordOutcome(None, error.code, error.reason)))
            continue
        mapped = _validated(outcome, window)
        if outcome.memo is not None and mapped.outcome.code is not ResultCode.REFUSED_BY_RULES:
            assert outcome.dossier_code is not None
            memos[outcome.dossier_code] = changed[outcome.dossier_code] = outcome.memo
            if outcome.unmapped_procedure is not None:
                unmapped.append(Unmapped(*outcome.unmapped_procedure, outcome.dossier_code))
        results.append(mapped)
    if changed or unmapped:
        store.save(context.source, changed, unmapped, context.received_at)
    return results


def dvcqg_source(key: KeySpec, default: str) -> str:
    """The source of the events a key's portal payloads imply: its exact source ending in `:dvcqg`, else its
    first exact source, else `default` if its prefixes allow it (403 otherwise)."""
    exact = [source for source in key.sources if not source.endswith("*")]
    if exact:
        return next((source for source in exact if source.endswith(DVCQG_SOURCE_SUFFIX)), exact[0])
    if key.allows(default):
        return default
    raise Rejected(
        403,
        Reason.FORBIDDEN_SOURCE,
        f"key {key.name!r} is bound only to source prefixes ({', '.join(key.sources)}) that do not cover "
        f"{default!r}; portal payloads need a key bound to an exact source: "
        "`dvc-pulse ingest keys add --source urn:dvc:<centre>:dvcqg`",
        extensions={"forbidden_sources": [default]},
    )


def parse_body(body: bytes, max_records: int) -> Payload:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Rejected(
            400,
            Reason.BROKEN_JSON,
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            extensions={"line": error.lineno, "column": error.colno},
        ) from None
    return payload_of(document, max_records)


def payload_of(document: Any, max_records: int) -> Payload:
    try:
        return read_payload(document, max_records)
    except PayloadError as error:
        detail = f"not a portal payload: {error}"
        raise Rejected(422, Reason.INVALID, detail, [FieldError(0, error.field, error.reason)]) from None


@dataclass
class PortalSync:
    ingest: Ingest
    store: DossierStateStore
    mapping: MappingSource
    max_records: int
    default_source: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def receive(self, key: KeySpec, body: bytes) -> dict[str, Any]:
        """The portal-style answer, once JetStream stored every event; or raise Rejected (400, 403, 422, 503)."""
        try:
            payload = parse_body(body, self.max_records)
            source = dvcqg_source(key, self.default_source)
        except Rejected as rejection:
            self.ingest.metrics.rejected(INGRESS, rejection.reason, {})
            raise
        now = self.clock()
        window = self.ingest.time_rules.window(now)
        context = Context(source, self.mapping.tables(), key.sms_consent, now.replace(microsecond=0), window)
        async with self._lock:  # two requests about one dossier must not interleave reading and saving its memo
            mapped = await asyncio.to_thread(map_records, payload, self.store, context, window)
        for item in mapped:
            self.ingest.metrics.portal_record(payload.service, item.outcome.result_label)
        events = [event for item in mapped for event in item.events]
        document = await self.ingest.publish(events, key, INGRESS) if events else {"results": []}
        return answer(mapped, document["results"])


def answer(mapped: Sequence[Mapped], results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`{"error_code": 0, "message", "result": [...]}`: one entry per record, in order."""
    entries = []
    position = 0
    for item in mapped:
        statuses = [result["status"] for result in results[position : position + len(item.events)]]
        position += len(item.events)
        entries.append(
            {
                "MaHoSo": item.outcome.dossier_code,
                "error_code": int(item.outcome.code),
                "message": item.outcome.message,
                "added": statuses.count("accepted"),
                "duplicates": statuses.count("duplicate"),
            }
        )
    refused = sum(1 for entry in entries if entry["error_code"])
    message = f"{len(entries) - refused} record(s) kept, {refused} refused (see result)"
    return {"error_code": 0, "message": message, "result": entries}


@dataclass(frozen=True)
class PortalLines:
    """`dvc-pulse import --format dvcqg`: each line is a payload (`{"service": ..., "data": [...]}`) or one bare
    `DongBoHoSoMC` record; mapped like `POST /v1/dvcqg` with the same memo file, so a file and the HTTP sync
    of the same centre agree."""

    store: DossierStateStore
    mapping: MappingSource
    source: str
    sms_consent: bool
    time_rules: TimeRules
    max_records: int = 1000
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __call__(self, line: bytes) -> list[tuple[CloudEvent | None, tuple[tuple[str, str], ...]]]:
        try:
            payload = self._payload(line)
        except Rejected as rejection:
            reasons = [(error.field, error.reason) for error in rejection.errors] or [("(line)", rejection.detail)]
            return [(None, tuple(reasons))]
        now = self.clock()
        window = self.time_rules.window(now)
        context = Context(self.source, self.mapping.tables(), self.sms_consent, now.replace(microsecond=0), window)
        derived: list[tuple[CloudEvent | None, tuple[tuple[str, str], ...]]] = []
        for index, item in enumerate(map_records(payload, self.store, context, window)):
            if item.outcome.code is not ResultCode.OK:
                code = item.outcome.dossier_code or "no MaHoSo"
                where = f"data[{index}] ({code}) error_code {int(item.outcome.code)}"
                derived.append((None, ((where, item.outcome.message),)))
            derived.extend((event, ()) for event in item.events)
        return derived

    def _payload(self, line: bytes) -> Payload:
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise Rejected(400, Reason.BROKEN_JSON, f"the line is not valid JSON: {error.msg}") from None
        if isinstance(document, dict) and "service" not in document and "MaHoSo" in document:
            document = {"service": SNAPSHOT_SERVICE, "data": [document]}
        return payload_of(document, self.max_records)
