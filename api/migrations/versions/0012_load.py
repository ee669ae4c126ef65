"""Plan jobs keep what reading their plan needs, not the scenario (the basis).

A plan job stored its whole scenario: every shelter of the network with a calendar for
each night, every arrival, as JSON, per job (about 180 KB for 500 shelters). Reading,
committing and explaining a plan needs only its policy, which shelters were stale or held
for it, how many shelters and arrivals it was given (``api.plan_options.PlanBasis``), and
the versions of the shelters it places people in. The scenario now goes to the solver in
memory; this revision turns each stored scenario into its basis and drops the column. Jobs
still queued or running cannot be solved without it: they end ``failed``, said so (the
service is stopped for an upgrade: they were interrupted anyway).

Revision ID: 0012_load
Revises: 0009_stress2 (file 0011_stress2.py)
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012_load"
down_revision: str | None = "0009_stress2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = ("queued", "running", "cancelling")
INTERRUPTED = "interrupted: the service was upgraded before the solve ended; plan again"


def basis_of(scenario: dict[str, Any]) -> dict[str, Any]:
    """The basis of a stored scenario (as ``PlanBasis.of`` makes it)."""
    shelters = scenario.get("shelters") or []
    return {
        "policy": scenario.get("policy") or {},
        "stale_shelters": sorted(s["id"] for s in shelters if s.get("stale")),
        "held_shelters": sorted(s["id"] for s in shelters if s.get("held")),
        "shelters": len(shelters),
        "arrivals": len(scenario.get("arrivals") or []),
    }


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis", sa.JSON(), nullable=True))
    jobs = sa.table(
        "plan_jobs",
        sa.column("id", sa.String),
        sa.column("status", sa.String),
        sa.column("scenario", sa.JSON),
        sa.column("basis", sa.JSON),
        sa.column("error", sa.String),
        sa.column("finished_at", sa.DateTime),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(jobs.c.id, jobs.c.status, jobs.c.scenario)).all()
    for job_id, status, scenario in rows:
        data = json.loads(scenario) if isinstance(scenario, str) else scenario
        values: dict[str, Any] = {"basis": basis_of(data if isinstance(data, dict) else {})}
        if status in ACTIVE:
            values.update(status="failed", error=INTERRUPTED, finished_at=datetime.now(UTC))
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.alter_column("basis", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("scenario")


def downgrade() -> None:
    """Revert this revision: the scenario column comes back with the policy alone (what the
    previous release read of a finished job; the shelters and arrivals are not restored)."""
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scenario", sa.JSON(), nullable=True))
    jobs = sa.table(
        "plan_jobs",
        sa.column("id", sa.String),
        sa.column("scenario", sa.JSON),
        sa.column("basis", sa.JSON),
    )
    conn = op.get_bind()
    for job_id, basis in conn.execute(sa.select(jobs.c.id, jobs.c.basis)).all():
        data = json.loads(basis) if isinstance(basis, str) else basis
        policy = (data or {}).get("policy") or {}
        scenario: dict[str, Any] = {"policy": policy, "shelters": [], "arrivals": []}
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(scenario=scenario))
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.alter_column("scenario", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("basis")
