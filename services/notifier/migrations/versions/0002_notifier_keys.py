"""Separate phone hash key: opt-outs keep their phone encrypted (so a new hash key can re-hash them) and the
fingerprint of the hash key the stored hashes were made with is recorded (checked at start).

Revision ID: 0002_notifier_keys
Revises: 0001_notifier
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_notifier_keys"
down_revision = "0001_notifier"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifier_opt_outs") as batch:
        batch.add_column(sa.Column("phone_encrypted", sa.LargeBinary(), nullable=True))
    op.create_table(
        "notifier_key_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("notifier_key_state")
    with op.batch_alter_table("notifier_opt_outs") as batch:
        batch.drop_column("phone_encrypted")
