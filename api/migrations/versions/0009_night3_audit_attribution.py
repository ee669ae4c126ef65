"""Audit records say on whose behalf the system acted, and what triggered it (a re-plan
after a manager's decline, at a deadline, after a compromise; the waiting list).

Columns are added with ``ALTER TABLE ... ADD COLUMN`` (no table copy), so the triggers that
keep the log append-only stay in place. Records written before this revision have neither.

Revision ID: 0009_night3
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0009_night3"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("audit_log", sa.Column("on_behalf_of", sa.Integer(), nullable=True))
    op.add_column(
        "audit_log",
        sa.Column("trigger", sqltypes.AutoString(length=32), nullable=False, server_default=""),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("audit_log", "trigger")
    op.drop_column("audit_log", "on_behalf_of")
