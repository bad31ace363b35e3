"""SQL tables of the indicators service (prefix `indicators_`).

`build_tables(metadata, prefix)` also builds the shadow set the rebuild fills (`indicators_rebuild_`).
Times are stored in UTC (naive on SQLite, `timestamptz` on PostgreSQL) and read back aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from services.runtime.sqltypes import UtcDateTime

LIVE_PREFIX = "indicators_"
REBUILD_PREFIX = "indicators_rebuild_"


def _code(name: str, **kwargs: Any) -> Column[str]:
    return Column(name, String(256), **kwargs)


@dataclass(frozen=True)
class Tables:
    events: Table
    dossiers: Table
    procedures: Table
    documents: Table
    feedback: Table
    consumer_state: Table
    procedure_versions: Table

    def all(self) -> tuple[Table, ...]:
        return (
            self.events,
            self.dossiers,
            self.procedures,
            self.documents,
            self.feedback,
            self.consumer_state,
            self.procedure_versions,
        )


def build_tables(metadata: MetaData, prefix: str = LIVE_PREFIX) -> Tables:
    return Tables(
        *(
            build(metadata, prefix)
            for build in (_events, _dossiers, _procedures, _documents, _feedback, _consumer_state, _procedure_versions)
        )
    )


def _events(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}events",
        metadata,
        Column("source", String(512), primary_key=True),
        Column("id", String(256), primary_key=True),
        Column("kind", String(16), nullable=False),
        _code("subject_key", nullable=False),
        Column("type", String(64), nullable=False),
        Column("time", UtcDateTime(), nullable=False),
        Column("data", JSON, nullable=True),
        Index(f"ix_{prefix}events_subject", "subject_key"),
    )


def _dossiers(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}dossiers",
        metadata,
        _code("dossier_code", primary_key=True),
        _code("procedure_code", nullable=False),
        _code("agency", nullable=False),
        Column("status", String(16), nullable=False),
        _code("receiving_agency"),
        Column("officer", String(64)),
        Column("channel", String(16)),
        Column("applicant_kind", String(16)),
        Column("submitted_at", UtcDateTime()),
        Column("accepted_at", UtcDateTime()),
        Column("due_at", UtcDateTime()),
        Column("rescheduled_due_at", UtcDateTime()),
        Column("extended_due_at", UtcDateTime()),
        Column("paused_seconds", Float, nullable=False),
        Column("paused_since", UtcDateTime()),
        Column("open_pauses", String(64), nullable=False),
        Column("supplement_requests", Integer, nullable=False),
        Column("late_at", UtcDateTime()),
        Column("transfers", Integer, nullable=False),
        Column("reschedules", Integer, nullable=False),
        Column("digitized", Boolean),
        Column("reused_data", Boolean),
        Column("processed_at", UtcDateTime()),
        Column("result_electronic", Boolean),
        Column("result_digitized", Boolean),
        Column("returned_at", UtcDateTime()),
        Column("delivery", String(16)),
        Column("payment_requested_at", UtcDateTime()),
        Column("paid_at", UtcDateTime()),
        Column("paid_online", Boolean),
        Column("fee_amount", BigInteger),
        Column("rejected_at", UtcDateTime()),
        Column("ended_at", UtcDateTime()),
        Column("end_kind", String(16)),
        Column("elapsed_working_seconds", Float),
        Column("on_time", Boolean),
        Column("overdue_from", UtcDateTime()),
        Column("event_count", Integer, nullable=False),
        Column("last_event_key", String(1200), nullable=False),
        Column("anomalies", Integer, nullable=False, server_default="0"),  # migration 0003
        Column("last_anomaly", String(64)),
        Column("rescheduled_at", UtcDateTime()),
        Index(f"ix_{prefix}dossiers_accepted_at", "accepted_at"),
        Index(f"ix_{prefix}dossiers_ended_at", "ended_at"),
        Index(f"ix_{prefix}dossiers_returned_at", "returned_at"),
        Index(f"ix_{prefix}dossiers_processed_at", "processed_at"),
        Index(f"ix_{prefix}dossiers_paid_at", "paid_at"),
        postgresql_with={"fillfactor": 75},  # room for HOT updates (migration 0002)
    )


def _procedures(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}procedures",
        metadata,
        _code("procedure_code", primary_key=True),
        Column("name", String(1000), nullable=False),
        Column("field", String(300), nullable=False),
        Column("level", String(16), nullable=False),
        Column("eligible_full_online", Boolean, nullable=False),
        Column("boundary_free", Boolean, nullable=False),
        Column("business_related", Boolean, nullable=False),
        Column("has_fee", Boolean, nullable=False),
        Column("time_limit_value", Float, nullable=False),
        Column("time_limit_unit", String(16), nullable=False),
        Column("published_at", UtcDateTime(), nullable=False),
        Column("last_event_key", String(1200), nullable=False),
    )


def _documents(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}documents",
        metadata,
        _code("document_id", primary_key=True),
        _code("agency", nullable=False),
        Column("fully_electronic", Boolean, nullable=False),
        Column("completed_at", UtcDateTime(), nullable=False),
        Column("last_event_key", String(1200), nullable=False),
        Index(f"ix_{prefix}documents_completed_at", "completed_at"),
    )


def _feedback(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}feedback",
        metadata,
        _code("dossier_code", primary_key=True),
        Column("satisfied", Boolean, nullable=False),
        Column("submitted_at", UtcDateTime(), nullable=False),
        Column("last_event_key", String(1200), nullable=False),
    )


def _consumer_state(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}consumer_state",
        metadata,
        Column("consumer", String(64), primary_key=True),
        Column("stream_sequence", BigInteger, nullable=False),
        Column("events_applied", BigInteger, nullable=False),
        Column("last_event_time", UtcDateTime()),
        Column("updated_at", UtcDateTime(), nullable=False),
    )


def _procedure_versions(metadata: MetaData, prefix: str) -> Table:
    return Table(  # every `procedure.published`: the settings in force from `valid_from` (0004)
        f"{prefix}procedure_versions",
        metadata,
        _code("procedure_code", primary_key=True),
        Column("version_key", String(1200), primary_key=True),  # the event's `utc_key_text`: orders versions
        Column("valid_from", UtcDateTime(), nullable=False),
        Column("field", String(300), nullable=False),
        Column("level", String(16), nullable=False),
        Column("eligible_full_online", Boolean, nullable=False),
        Column("boundary_free", Boolean, nullable=False),
        Column("business_related", Boolean, nullable=False),
    )


METADATA = MetaData()
TABLES = build_tables(METADATA)
