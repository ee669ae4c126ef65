"""Live operations: proposals and answers, alerts, scheduled job runs, compromised shelters.

Placements committed before this revision count as accepted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:54:02.442726
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("kind", sqltypes.AutoString(length=32), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=True),
        sa.Column("arrival_id", sqltypes.AutoString(length=64), nullable=True),
        sa.Column("shelter_id", sqltypes.AutoString(length=64), nullable=True),
        sa.Column("detail", sqltypes.AutoString(length=500), nullable=False),
        sa.Column("resolved_at", sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_arrival_id"), ["arrival_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_at"), ["at"], unique=False)

    op.create_table(
        "job_runs",
        sa.Column("job", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("due_at", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ran_at", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("runner", sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("job", "due_at"),
    )
    op.create_table(
        "compromised_shelters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shelter_id", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("network", sqltypes.AutoString(length=64), nullable=True),
        sa.Column("at", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["shelters.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("compromised_shelters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compromised_shelters_shelter_id"), ["shelter_id"], unique=False
        )

    with op.batch_alter_table("arrivals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waitlisted_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("waiting_reasons", sa.JSON(), nullable=True))

    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status", sqltypes.AutoString(length=16), nullable=False, server_default="accepted"
            )
        )
        batch_op.add_column(
            sa.Column("answer_reason", sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("answered_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("answered_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("answer_due_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("replan_due_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            "fk_placements_answered_by_users", "users", ["answered_by"], ["id"]
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_constraint("fk_placements_answered_by_users", type_="foreignkey")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("replan_due_at")
        batch_op.drop_column("answer_due_at")
        batch_op.drop_column("answered_by")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("answer_reason")
        batch_op.drop_column("status")

    with op.batch_alter_table("arrivals", schema=None) as batch_op:
        batch_op.drop_column("waiting_reasons")
        batch_op.drop_column("waitlisted_at")

    with op.batch_alter_table("compromised_shelters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compromised_shelters_shelter_id"))

    op.drop_table("compromised_shelters")
    op.drop_table("job_runs")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_arrival_id"))

    op.drop_table("alerts")
