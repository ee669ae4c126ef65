"""Stress jobs in the database: progress and aggregates, seen by every API process and kept
across restarts.

Revision ID: 0009_stress2
Revises: 0009_web
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0009_stress2"
down_revision: str | None = "0009_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "stress_jobs",
        sa.Column("id", sqltypes.AutoString(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("status", sqltypes.AutoString(length=16), nullable=False),
        sa.Column("phase", sqltypes.AutoString(length=80), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("seconds_left", sa.Float(), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("started_at", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqltypes.UTCDateTime(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sqltypes.AutoString(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stress_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stress_jobs_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("stress_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stress_jobs_owner_id"))
    op.drop_table("stress_jobs")
