"""A compromised shelter's scope: everyone (the default), one operation, or one network.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (shelters marked before it were excluded for their network only)."""
    with op.batch_alter_table("compromised_shelters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scope",
                sqltypes.AutoString(length=16),
                nullable=False,
                server_default="network",
            )
        )
        batch_op.add_column(sa.Column("operation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_compromised_shelters_operation_id", "operations", ["operation_id"], ["id"]
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("compromised_shelters", schema=None) as batch_op:
        batch_op.drop_constraint("fk_compromised_shelters_operation_id", type_="foreignkey")
        batch_op.drop_column("operation_id")
        batch_op.drop_column("scope")
