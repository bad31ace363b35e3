"""Early warning: alerts raised once per dossier and kind (outbox).

Revision ID: w001_indicators_alerts
Revises: 0001_indicators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w001_indicators_alerts"
down_revision = "0001_indicators"
branch_labels = ("warning",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicators_alerts",
        sa.Column("alert_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dossier_code", sa.String(length=256), nullable=False),
        sa.Column("procedure_code", sa.String(length=256), nullable=False),
        sa.Column("agency", sa.String(length=256), nullable=False),
        sa.Column("officer", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index("ix_indicators_alerts_raised_at", "indicators_alerts", ["raised_at"], unique=False)
    op.create_index("ix_indicators_alerts_dossier_code", "indicators_alerts", ["dossier_code"], unique=False)
    op.create_index("ix_indicators_alerts_published_at", "indicators_alerts", ["published_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_indicators_alerts_published_at", table_name="indicators_alerts")
    op.drop_index("ix_indicators_alerts_dossier_code", table_name="indicators_alerts")
    op.drop_index("ix_indicators_alerts_raised_at", table_name="indicators_alerts")
    op.drop_table("indicators_alerts")
