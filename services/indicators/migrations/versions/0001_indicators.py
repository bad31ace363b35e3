"""Indicators projections: events (dedup and per-dossier history), dossiers, procedures, documents,
feedback, consumer state.

Revision ID: 0001_indicators
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_indicators"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicators_consumer_state",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("stream_sequence", sa.BigInteger(), nullable=False),
        sa.Column("events_applied", sa.BigInteger(), nullable=False),
        sa.Column("last_event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer"),
    )
    op.create_table(
        "indicators_documents",
        sa.Column("document_id", sa.String(length=256), nullable=False),
        sa.Column("agency", sa.String(length=256), nullable=False),
        sa.Column("fully_electronic", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_key", sa.String(length=1200), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_indicators_documents_completed_at", "indicators_documents", ["completed_at"], unique=False)
    op.create_table(
        "indicators_dossiers",
        sa.Column("dossier_code", sa.String(length=256), nullable=False),
        sa.Column("procedure_code", sa.String(length=256), nullable=False),
        sa.Column("agency", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("receiving_agency", sa.String(length=256), nullable=True),
        sa.Column("officer", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("applicant_kind", sa.String(length=16), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rescheduled_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extended_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_seconds", sa.Float(), nullable=False),
        sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_pauses", sa.String(length=64), nullable=False),
        sa.Column("supplement_requests", sa.Integer(), nullable=False),
        sa.Column("late_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("reschedules", sa.Integer(), nullable=False),
        sa.Column("digitized", sa.Boolean(), nullable=True),
        sa.Column("reused_data", sa.Boolean(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_electronic", sa.Boolean(), nullable=True),
        sa.Column("result_digitized", sa.Boolean(), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=True),
        sa.Column("payment_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_online", sa.Boolean(), nullable=True),
        sa.Column("fee_amount", sa.BigInteger(), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_kind", sa.String(length=16), nullable=True),
        sa.Column("elapsed_working_seconds", sa.Float(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("overdue_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_event_key", sa.String(length=1200), nullable=False),
        sa.PrimaryKeyConstraint("dossier_code"),
    )
    op.create_index("ix_indicators_dossiers_accepted_at", "indicators_dossiers", ["accepted_at"], unique=False)
    op.create_index("ix_indicators_dossiers_ended_at", "indicators_dossiers", ["ended_at"], unique=False)
    op.create_index("ix_indicators_dossiers_paid_at", "indicators_dossiers", ["paid_at"], unique=False)
    op.create_index("ix_indicators_dossiers_processed_at", "indicators_dossiers", ["processed_at"], unique=False)
    op.create_index("ix_indicators_dossiers_returned_at", "indicators_dossiers", ["returned_at"], unique=False)
    op.create_table(
        "indicators_events",
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("id", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_key", sa.String(length=256), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("source", "id"),
    )
    op.create_index("ix_indicators_events_subject", "indicators_events", ["subject_key"], unique=False)
    op.create_table(
        "indicators_feedback",
        sa.Column("dossier_code", sa.String(length=256), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_key", sa.String(length=1200), nullable=False),
        sa.PrimaryKeyConstraint("dossier_code"),
    )
    op.create_table(
        "indicators_procedures",
        sa.Column("procedure_code", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("eligible_full_online", sa.Boolean(), nullable=False),
        sa.Column("boundary_free", sa.Boolean(), nullable=False),
        sa.Column("business_related", sa.Boolean(), nullable=False),
        sa.Column("has_fee", sa.Boolean(), nullable=False),
        sa.Column("time_limit_value", sa.Float(), nullable=False),
        sa.Column("time_limit_unit", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_key", sa.String(length=1200), nullable=False),
        sa.PrimaryKeyConstraint("procedure_code"),
    )


def downgrade() -> None:
    op.drop_table("indicators_procedures")
    op.drop_table("indicators_feedback")
    op.drop_index("ix_indicators_events_subject", table_name="indicators_events")
    op.drop_table("indicators_events")
    op.drop_index("ix_indicators_dossiers_returned_at", table_name="indicators_dossiers")
    op.drop_index("ix_indicators_dossiers_processed_at", table_name="indicators_dossiers")
    op.drop_index("ix_indicators_dossiers_paid_at", table_name="indicators_dossiers")
    op.drop_index("ix_indicators_dossiers_ended_at", table_name="indicators_dossiers")
    op.drop_index("ix_indicators_dossiers_accepted_at", table_name="indicators_dossiers")
    op.drop_table("indicators_dossiers")
    op.drop_index("ix_indicators_documents_completed_at", table_name="indicators_documents")
    op.drop_table("indicators_documents")
    op.drop_table("indicators_consumer_state")
