"""Tasks service: plans, indicators, readings, tasks, reports, alerts, processed messages, audit.

Revision ID: 0001_tasks
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_tasks"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tasks_plans",
        sa.Column("plan_id", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("units", sa.JSON, nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("loaded_at", TS, nullable=False),
    )
    op.create_table(
        "tasks_indicators",
        sa.Column("plan_id", sa.String(64), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("live_code", sa.String(32), nullable=True),
        sa.Column("owners", sa.JSON, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "tasks_indicator_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("period", sa.String(16), nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("evidence_url", sa.String(2000), nullable=True),
        sa.Column("reporter", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index("ix_tasks_indicator_reports_plan_number", "tasks_indicator_reports", ["plan_id", "number", "id"])
    op.create_table(
        "tasks_indicator_live",
        sa.Column("plan_id", sa.String(64), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("numerator", sa.Integer, nullable=False),
        sa.Column("denominator", sa.Integer, nullable=False),
        sa.Column("snapshot_id", sa.String(200), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("period_from", TS, nullable=False),
        sa.Column("period_to", TS, nullable=False),
    )
    op.create_table(
        "tasks_tasks",
        sa.Column("plan_id", sa.String(64), primary_key=True),
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("section", sa.String(2000), nullable=False),
        sa.Column("title", sa.String(2000), nullable=False),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("collaborators", sa.JSON, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("progress_percent", sa.Integer, nullable=False),
        sa.Column("started", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_tasks_tasks_owner", "tasks_tasks", ["plan_id", "owner"])
    op.create_table(
        "tasks_task_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("progress_percent", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("period", sa.String(16), nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("evidence_url", sa.String(2000), nullable=True),
        sa.Column("reporter", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index("ix_tasks_task_reports_task", "tasks_task_reports", ["plan_id", "task_id", "id"])
    op.create_table(
        "tasks_alerts",
        sa.Column("alert_id", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
    )
    op.create_index("ix_tasks_alerts_unpublished", "tasks_alerts", ["published_at"])
    op.create_table(
        "tasks_processed",
        sa.Column("message_id", sa.String(300), primary_key=True),
        sa.Column("stream_sequence", sa.BigInteger, nullable=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_table(
        "tasks_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_unit", sa.String(32), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=True),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(300), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
    )
    op.create_index("ix_tasks_audit_entity", "tasks_audit", ["entity", "entity_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_tasks_audit_entity", "tasks_audit"),
        ("ix_tasks_alerts_unpublished", "tasks_alerts"),
        ("ix_tasks_task_reports_task", "tasks_task_reports"),
        ("ix_tasks_tasks_owner", "tasks_tasks"),
        ("ix_tasks_indicator_reports_plan_number", "tasks_indicator_reports"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "tasks_audit",
        "tasks_processed",
        "tasks_alerts",
        "tasks_task_reports",
        "tasks_tasks",
        "tasks_indicator_live",
        "tasks_indicator_reports",
        "tasks_indicators",
        "tasks_plans",
    ):
        op.drop_table(table)
