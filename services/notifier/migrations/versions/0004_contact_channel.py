"""The dossier's channel beside its contact: a processed dossier's SMS tells a postal applicant that the result
comes by post. Contacts stored before stay NULL (the counter wording, as before).

Revision ID: 0004_contact_channel
Revises: 0003_dossier_steps
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_contact_channel"
down_revision = "0003_dossier_steps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifier_contacts", sa.Column("channel", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifier_contacts") as batch:
        batch.drop_column("channel")
