"""SQL tables of the notifier (prefix `notifier_`). Phones are stored encrypted (Fernet) with a keyed hash for
lookups (opt-outs, daily caps); times in UTC (naive on SQLite, `timestamptz` on PostgreSQL), read back aware."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.runtime.sqltypes import UtcDateTime

METADATA = MetaData()
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER primary keys only

processed_events = Table(
    "notifier_processed_events",
    METADATA,
    Column("source", String(512), primary_key=True),
    Column("id", String(256), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("processed_at", UtcDateTime(), nullable=False),
)

consumer_state = Table(
    "notifier_consumer_state",
    METADATA,
    Column("consumer", String(64), primary_key=True),
    Column("stream_sequence", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

contacts = Table(
    "notifier_contacts",
    METADATA,
    Column("dossier_code", String(256), primary_key=True),
    Column("phone_encrypted", LargeBinary, nullable=True),
    Column("name_encrypted", LargeBinary, nullable=True),
    Column("sms_consent", Boolean, nullable=False),
    Column("applicant_kind", String(16), nullable=True),
    Column("event_time", UtcDateTime(), nullable=False),  # the newer submitted/accepted wins
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_notifier_contacts_updated_at", "updated_at"),
)

# The latest event time of each kind seen per dossier: which newer step supersedes a waiting message.
dossier_steps = Table(
    "notifier_dossier_steps",
    METADATA,
    Column("dossier_code", String(256), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("event_time", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_notifier_dossier_steps_updated_at", "updated_at"),
)

opt_outs = Table(
    "notifier_opt_outs",
    METADATA,
    Column("phone_hash", String(64), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("phone_encrypted", LargeBinary, nullable=True),  # to re-hash it under a new hash key
)

key_state = Table(
    "notifier_key_state",
    METADATA,
    Column("name", String(32), primary_key=True),  # "hash_key"
    Column("fingerprint", String(64), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

notifications = Table(
    "notifier_notifications",
    METADATA,
    Column("id", String(36), primary_key=True),
    Column("event_source", String(512), nullable=False),
    Column("event_id", String(256), nullable=False),
    Column("template_id", String(64), nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("event_kind", String(64), nullable=False),
    Column("event_time", UtcDateTime(), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("dossier_code", String(256), nullable=True),
    Column("recipient_ref", String(256), nullable=True),  # officer or unit code (officer messages)
    Column("phone_encrypted", LargeBinary, nullable=True),
    Column("phone_hash", String(64), nullable=True),
    Column("content_hash", String(64), nullable=True),
    Column("text", Text, nullable=True),
    Column("encoding", String(8), nullable=True),
    Column("segments", Integer, nullable=True),
    Column("characters", Integer, nullable=True),
    Column("urgent", Boolean, nullable=False),
    Column("status", String(24), nullable=False),
    Column("reason", String(64), nullable=True),
    Column("detail", String(500), nullable=True),
    Column("provider", String(64), nullable=True),
    Column("provider_reference", String(256), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("send_after", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    UniqueConstraint("event_source", "event_id", "template_id", name="uq_notifier_notifications_event_template"),
    Index("ix_notifier_notifications_due", "status", "send_after"),
    Index("ix_notifier_notifications_dossier", "dossier_code"),
    Index("ix_notifier_notifications_phone", "phone_hash", "send_after"),
    Index("ix_notifier_notifications_content", "content_hash"),
    Index("ix_notifier_notifications_reference", "provider", "provider_reference"),
    Index("ix_notifier_notifications_created_at", "created_at"),
)

receipts = Table(
    "notifier_receipts",
    METADATA,
    Column("provider", String(64), primary_key=True),
    Column("provider_reference", String(256), primary_key=True),
    Column("status", String(24), nullable=False),
    Column("detail", String(500), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_notifier_receipts_received_at", "received_at"),
)

status_outbox = Table(
    "notifier_status_outbox",
    METADATA,
    Column("seq", SEQUENCE, primary_key=True, autoincrement=True),
    Column("notification_id", String(36), nullable=False),
    Column("status", String(24), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
