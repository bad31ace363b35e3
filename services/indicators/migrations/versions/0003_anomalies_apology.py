"""Terminal states are final: count the dossier events timed after returned/rejected/withdrawn/stopped
(`anomalies`) and keep the type of the latest (`last_anomaly`); late without apology: when the first
apology slip was issued (`rescheduled_at`). Existing rows start at 0 / NULL; run `dvc-pulse indicators
rebuild` to fill them from the stream.

Revision ID: 0003_anomalies_apology
Revises: 0002_dossiers_fillfactor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_anomalies_apology"
down_revision = "0002_dossiers_fillfactor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("indicators_dossiers", sa.Column("anomalies", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("indicators_dossiers", sa.Column("last_anomaly", sa.String(64), nullable=True))
    op.add_column("indicators_dossiers", sa.Column("rescheduled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indicators_dossiers") as batch:
        batch.drop_column("rescheduled_at")
        batch.drop_column("last_anomaly")
        batch.drop_column("anomalies")
