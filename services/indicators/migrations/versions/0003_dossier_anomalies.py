"""Terminal states are final: count the dossier events timed after returned/rejected/withdrawn/stopped
(`anomalies`) and keep the type of the latest (`last_anomaly`). Existing rows start at 0; run
`dvc-pulse indicators rebuild` to find the anomalies already in the stream.

Revision ID: 0003_dossier_anomalies
Revises: 0002_dossiers_fillfactor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_dossier_anomalies"
down_revision = "0002_dossiers_fillfactor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("indicators_dossiers", sa.Column("anomalies", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("indicators_dossiers", sa.Column("last_anomaly", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indicators_dossiers") as batch:
        batch.drop_column("last_anomaly")
        batch.drop_column("anomalies")
