"""Stored plans: relaxations written before they were exact are taken out, said so.

Relaxations are now stated from the re-solve's plan (where the person goes, who moves,
whose parameter changes, places per run of nights). Plans stored before that carry the old
shape (a "would allow" shelter, one span of nights), which cannot be made exact without
solving again: they are removed from those plans, each person's entry says that the
changes were not searched and why, and the rest of the plan is kept as it was.

Revision ID: 0006
Revises: 0005
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the reason added where old relaxations were removed
REMOVED = (
    "changes suggested by an earlier version of the engine were removed: plan again to get "
    "changes stated exactly"
)


def upgraded(result: dict[str, Any]) -> bool:
    """Rewrite one stored plan in place; True when something changed."""
    changed = False
    for entry in result.get("unplaced") or []:
        old = [r for r in entry.get("relaxations") or [] if "placed_in" not in r]
        if not old:
            continue
        entry["relaxations"] = [r for r in entry["relaxations"] if "placed_in" in r]
        entry["reasons"] = [*entry.get("reasons", []), REMOVED]
        entry.setdefault("search", "not_searched")
        changed = True
    return changed


def upgrade() -> None:
    """Apply this revision."""
    jobs = sa.table("plan_jobs", sa.column("id", sa.String), sa.column("result", sa.JSON))
    conn = op.get_bind()
    for job_id, result in conn.execute(sa.select(jobs.c.id, jobs.c.result)).all():
        data = json.loads(result) if isinstance(result, str) else result
        if isinstance(data, dict) and upgraded(data):
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(result=data))


def downgrade() -> None:
    """Nothing to undo: the removed relaxations cannot be restored."""
