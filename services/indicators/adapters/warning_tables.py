"""The early-warning table (`indicators_alerts`): one row per dossier and alert kind, outbox-style.

A row is written in the transaction that decided the alert; `published_at` is set once JetStream
acknowledged it. Unpublished rows are republished with the same id (`Nats-Msg-Id`) until acknowledged.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, MetaData, String, Table

from services.runtime.sqltypes import UtcDateTime

WARNING_METADATA = MetaData()

ALERTS = Table(
    "indicators_alerts",
    WARNING_METADATA,
    Column("alert_id", String(300), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("dossier_code", String(256), nullable=False),
    Column("procedure_code", String(256), nullable=False),
    Column("agency", String(256), nullable=False),
    Column("officer", String(64)),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("risk", Float),
    Column("basis", String(16)),
    Column("sample_size", Integer),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("published_at", UtcDateTime()),
    Column("payload", LargeBinary, nullable=False),  # the exact message bytes, republished unchanged
    Index("ix_indicators_alerts_raised_at", "raised_at"),
    Index("ix_indicators_alerts_dossier_code", "dossier_code"),
    Index("ix_indicators_alerts_published_at", "published_at"),
)
