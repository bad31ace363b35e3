"""PostgreSQL: leave a quarter of each page of indicators_dossiers free, so that an update touching no
indexed column (most dossier events: pauses, payments requested, reschedules, transfers) is a HOT update:
the new row version stays on its page and none of the table's six indexes gets a new entry. Applies to
pages written from now on (a `VACUUM FULL` rewrites the old ones). SQLite has no such setting.

Revision ID: 0002_dossiers_fillfactor
Revises: 0001_indicators
"""

from __future__ import annotations

from alembic import op

revision = "0002_dossiers_fillfactor"
down_revision = "0001_indicators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE indicators_dossiers SET (fillfactor = 75)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE indicators_dossiers RESET (fillfactor)")
