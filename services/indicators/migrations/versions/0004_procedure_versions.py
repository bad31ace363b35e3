"""Periods as they were: every `procedure.published` is kept as a version (`indicators_procedure_versions`), so
an indicator for a past period reads the procedure settings in force then. Existing installs get one version
per procedure (its latest settings, valid from its first publication); `dvc-pulse indicators rebuild` replays
the full history.

Revision ID: 0004_procedure_versions
Revises: 0003_anomalies_apology
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_procedure_versions"
down_revision = "0003_anomalies_apology"
branch_labels = None
depends_on = None

COPIED = "procedure_code, field, level, eligible_full_online, boundary_free, business_related"


def upgrade() -> None:
    op.create_table(
        "indicators_procedure_versions",
        sa.Column("procedure_code", sa.String(256), primary_key=True),
        sa.Column("version_key", sa.String(1200), primary_key=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("field", sa.String(300), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("eligible_full_online", sa.Boolean(), nullable=False),
        sa.Column("boundary_free", sa.Boolean(), nullable=False),
        sa.Column("business_related", sa.Boolean(), nullable=False),
    )
    op.execute(
        f"INSERT INTO indicators_procedure_versions (version_key, valid_from, {COPIED}) "
        f"SELECT last_event_key, published_at, {COPIED} FROM indicators_procedures"
    )


def downgrade() -> None:
    op.drop_table("indicators_procedure_versions")
