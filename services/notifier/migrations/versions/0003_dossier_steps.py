"""Dossier steps: the latest event time of each kind per dossier, so a newer step supersedes a waiting message.
Statuses `superseded` and `unknown` need no schema change (the status column is a plain String(24)).

Revision ID: 0003_dossier_steps
Revises: 0002_notifier_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_dossier_steps"
down_revision = "0002_notifier_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifier_dossier_steps",
        sa.Column("dossier_code", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dossier_code", "kind"),
    )
    op.create_index("ix_notifier_dossier_steps_updated_at", "notifier_dossier_steps", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notifier_dossier_steps_updated_at", table_name="notifier_dossier_steps")
    op.drop_table("notifier_dossier_steps")
