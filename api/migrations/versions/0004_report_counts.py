"""Aggregate counts kept when case data are purged.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "report_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purged_at", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("period", sqltypes.AutoString(length=7), nullable=False),
        sa.Column("arrivals", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("placed", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("declined", sa.Integer(), nullable=False),
        sa.Column("compromised", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_counts_period"), ["period"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("report_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_counts_period"))
    op.drop_table("report_counts")
