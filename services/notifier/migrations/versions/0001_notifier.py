"""Notifier tables: processed events, consumer state, dossier contacts, opt-outs, notifications, receipts,
status outbox.

Revision ID: 0001_notifier
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_notifier"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifier_consumer_state",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("stream_sequence", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer"),
    )
    op.create_table(
        "notifier_contacts",
        sa.Column("dossier_code", sa.String(length=256), nullable=False),
        sa.Column("phone_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("name_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("sms_consent", sa.Boolean(), nullable=False),
        sa.Column("applicant_kind", sa.String(length=16), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dossier_code"),
    )
    op.create_index("ix_notifier_contacts_updated_at", "notifier_contacts", ["updated_at"], unique=False)
    op.create_table(
        "notifier_notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_source", sa.String(length=512), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("event_kind", sa.String(length=64), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("dossier_code", sa.String(length=256), nullable=True),
        sa.Column("recipient_ref", sa.String(length=256), nullable=True),
        sa.Column("phone_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("encoding", sa.String(length=8), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("characters", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("provider_reference", sa.String(length=256), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_source", "event_id", "template_id", name="uq_notifier_notifications_event_template"),
    )
    op.create_index("ix_notifier_notifications_content", "notifier_notifications", ["content_hash"], unique=False)
    op.create_index("ix_notifier_notifications_created_at", "notifier_notifications", ["created_at"], unique=False)
    op.create_index("ix_notifier_notifications_dossier", "notifier_notifications", ["dossier_code"], unique=False)
    op.create_index("ix_notifier_notifications_due", "notifier_notifications", ["status", "send_after"], unique=False)
    op.create_index(
        "ix_notifier_notifications_phone", "notifier_notifications", ["phone_hash", "send_after"], unique=False
    )
    op.create_index(
        "ix_notifier_notifications_reference",
        "notifier_notifications",
        ["provider", "provider_reference"],
        unique=False,
    )
    op.create_table(
        "notifier_opt_outs",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash"),
    )
    op.create_table(
        "notifier_processed_events",
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("id", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "id"),
    )
    op.create_table(
        "notifier_receipts",
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("provider_reference", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "provider_reference"),
    )
    op.create_index("ix_notifier_receipts_received_at", "notifier_receipts", ["received_at"], unique=False)
    op.create_table(
        "notifier_status_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("notifier_status_outbox")
    op.drop_index("ix_notifier_receipts_received_at", table_name="notifier_receipts")
    op.drop_table("notifier_receipts")
    op.drop_table("notifier_processed_events")
    op.drop_table("notifier_opt_outs")
    op.drop_index("ix_notifier_notifications_reference", table_name="notifier_notifications")
    op.drop_index("ix_notifier_notifications_phone", table_name="notifier_notifications")
    op.drop_index("ix_notifier_notifications_due", table_name="notifier_notifications")
    op.drop_index("ix_notifier_notifications_dossier", table_name="notifier_notifications")
    op.drop_index("ix_notifier_notifications_created_at", table_name="notifier_notifications")
    op.drop_index("ix_notifier_notifications_content", table_name="notifier_notifications")
    op.drop_table("notifier_notifications")
    op.drop_index("ix_notifier_contacts_updated_at", table_name="notifier_contacts")
    op.drop_table("notifier_contacts")
    op.drop_table("notifier_consumer_state")
