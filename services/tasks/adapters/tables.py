"""Tables of the tasks service (prefix `tasks_`; migrations in services/tasks/migrations)."""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData()
TS = sa.DateTime(timezone=True)

plans = sa.Table(
    "tasks_plans",
    METADATA,
    sa.Column("plan_id", sa.String(64), primary_key=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("units", sa.JSON, nullable=False),
    sa.Column("groups", sa.JSON, nullable=False),
    sa.Column("source", sa.String(1000), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("loaded_at", TS, nullable=False),
)

indicators = sa.Table(
    "tasks_indicators",
    METADATA,
    sa.Column("plan_id", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("live_code", sa.String(32), nullable=True),
    sa.Column("owners", sa.JSON, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)

# Append-only: one row per report a unit makes.
indicator_reports = sa.Table(
    "tasks_indicator_reports",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.String(64), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("period", sa.String(16), nullable=True),
    sa.Column("evidence", sa.Text, nullable=True),
    sa.Column("evidence_url", sa.String(2000), nullable=True),
    sa.Column("reporter", sa.String(200), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", TS, nullable=False),
    sa.Index("ix_tasks_indicator_reports_plan_number", "plan_id", "number", "id"),
)

# Live indicators: one row per indicator and day, holding that day's latest snapshot value.
indicator_live = sa.Table(
    "tasks_indicator_live",
    METADATA,
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

tasks = sa.Table(
    "tasks_tasks",
    METADATA,
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
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("progress_percent", sa.Integer, nullable=False, default=0),
    sa.Column("started", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_tasks_tasks_owner", "plan_id", "owner"),
)

# Append-only progress reports.
task_reports = sa.Table(
    "tasks_task_reports",
    METADATA,
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
    sa.Index("ix_tasks_task_reports_task", "plan_id", "task_id", "id"),
)

# Deadline alerts: recorded first, then published with Nats-Msg-Id = alert_id; unpublished ones are retried.
alerts = sa.Table(
    "tasks_alerts",
    METADATA,
    sa.Column("alert_id", sa.String(300), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("plan_id", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("published_at", TS, nullable=True),
    sa.Index("ix_tasks_alerts_unpublished", "published_at"),
)

# Messages already applied (exactly-once with the change they made).
processed = sa.Table(
    "tasks_processed",
    METADATA,
    sa.Column("message_id", sa.String(300), primary_key=True),
    sa.Column("stream_sequence", sa.BigInteger, nullable=True),
    sa.Column("processed_at", TS, nullable=False),
)

audit = sa.Table(
    "tasks_audit",
    METADATA,
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
    sa.Index("ix_tasks_audit_entity", "entity", "entity_id"),
)
