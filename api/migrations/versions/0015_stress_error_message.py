"""A failed stress job keeps why as a catalogue message, read in each reader's language.

``stress_jobs.error_message``: the error as a ``placement.text.Text`` (JSON), beside the
English ``error`` kept as it was; jobs that failed before have none and read in English.

Revision ID: 0015_stress_error_message
Revises: 0014_job_error_message
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_stress_error_message"
down_revision: str | None = "0014_job_error_message"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the message column."""
    with op.batch_alter_table("stress_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop it (the English errors stay)."""
    with op.batch_alter_table("stress_jobs", schema=None) as batch_op:
        batch_op.drop_column("error_message")
