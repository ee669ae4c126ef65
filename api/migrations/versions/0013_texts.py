"""Alerts keep their detail as a catalogue message, read in each coordinator's language.

``alerts.detail_message``: the detail as a ``placement.text.Text`` (JSON), beside the
English ``detail`` kept as it was; alerts raised before have none and read in English.

Revision ID: 0013_texts
Revises: 0012_load
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_texts"
down_revision: str | None = "0012_load"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the message column."""
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop it (the English details stay)."""
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("detail_message")
