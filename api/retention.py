"""Purge case data after a retention period (data protection by default).

Removed: arrivals that left the system (placement ended, or withdrawn) more than ``days``
ago, with their placements; finished plan jobs older than that (their scenario and result
hold case data); operations with no arrival left. Waiting arrivals are never purged. The
audit log keeps a ``purge`` record per removed object (pseudonymous ids only), and
``report_counts`` keeps aggregate counts (by month of the end of the stay) for reports
(``purged_counts``, served at ``/reports/purged``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import audit
from api.schemas import COUNTS, ReportCountOut
from api.tables import (
    Alert,
    ArrivalRow,
    Hold,
    Operation,
    PlacementRow,
    PlanJob,
    ReportCount,
    aware,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    """What a purge removed."""

    arrivals: int
    placements: int
    plans: int
    operations: int


def _keep_counts(
    session: Session,
    arrivals: list[ArrivalRow],
    placements: dict[str, list[PlacementRow]],
    now: datetime,
) -> None:
    """Add the aggregate counts of what is about to be purged, by month of the stay's end."""
    by_period: dict[str, ReportCount] = {}
    for a in arrivals:
        mine = placements.get(a.id, [])
        end = max((p.last_night for p in mine), default=aware(a.created_at).date())
        period = end.strftime("%Y-%m")
        c = by_period.setdefault(
            period,
            ReportCount(
                purged_at=now,
                period=period,
                arrivals=0,
                persons=0,
                placed=0,
                withdrawn=0,
                proposals=0,
                accepted=0,
                declined=0,
                compromised=0,
            ),
        )
        c.arrivals += 1
        c.persons += a.arrival.persons
        c.placed += a.status == "placed"
        c.withdrawn += a.status == "withdrawn"
        c.proposals += len(mine)
        c.accepted += sum(p.status == "accepted" for p in mine)
        c.declined += sum(p.status == "declined" for p in mine)
        c.compromised += sum(p.status == "compromised" for p in mine)
    for c in by_period.values():
        session.add(c)


def purge(engine: Engine, days: int, now: datetime | None = None) -> Purged:
    """Remove case data older than ``days`` days, in one transaction."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    with Session(engine) as session:
        placements = session.exec(select(PlacementRow)).all()
        ended: dict[str, list[PlacementRow]] = {}
        for p in placements:
            ended.setdefault(p.arrival_id, []).append(p)
        doomed = []
        rows: dict[str, ArrivalRow] = {}
        for a in session.exec(select(ArrivalRow).where(ArrivalRow.status != "waiting")).all():
            rows[a.id] = a
            mine = ended.get(a.id, [])
            if a.status == "withdrawn":
                old = aware(a.created_at) < cutoff and all(not p.active for p in mine)
            else:  # placed: its placement's last night is past the retention period
                old = all(p.last_night < cutoff.date() for p in mine if p.active)
            if old:
                doomed.append(a.id)
        doomed_placements = [p.id for a in doomed for p in ended.get(a, []) if p.id]
        _keep_counts(session, [rows[a] for a in doomed], ended, now)
        old_plans = [
            j.id
            for j in session.exec(
                select(PlanJob).where(col(PlanJob.status).in_(("done", "failed", "cancelled")))
            ).all()
            if aware(j.finished_at or j.created_at) < cutoff
        ]
        if doomed_placements:
            session.execute(delete(PlacementRow).where(col(PlacementRow.id).in_(doomed_placements)))
        if old_plans:
            session.execute(
                update(PlacementRow)
                .where(col(PlacementRow.plan_id).in_(old_plans))
                .values(plan_id=None)
            )
            session.execute(delete(PlanJob).where(col(PlanJob.id).in_(old_plans)))
        if doomed:
            session.execute(delete(Alert).where(col(Alert.arrival_id).in_(doomed)))
            session.execute(delete(ArrivalRow).where(col(ArrivalRow.id).in_(doomed)))
        empty_ops = [
            op.id
            for op in session.exec(select(Operation)).all()
            if op.id is not None
            and aware(op.created_at) < cutoff
            and session.exec(select(ArrivalRow.id).where(ArrivalRow.operation_id == op.id)).first()
            is None
            and session.exec(select(PlanJob.id).where(PlanJob.operation_id == op.id)).first()
            is None
        ]
        if empty_ops:
            session.execute(delete(Hold).where(col(Hold.operation_id).in_(empty_ops)))
            session.execute(delete(Operation).where(col(Operation.id).in_(empty_ops)))
        audit.record(session, None, "purge", "arrival", doomed, f"retention {days} days")
        audit.record(session, None, "purge", "placement", doomed_placements)
        audit.record(session, None, "purge", "plan", old_plans)
        audit.record(session, None, "purge", "operation", empty_ops)
        session.commit()
    result = Purged(len(doomed), len(doomed_placements), len(old_plans), len(empty_ops))
    log.info("purge: %s", result)
    return result


def purged_counts(session: Session) -> list[ReportCountOut]:
    """What the purge kept: counts by month of the end of the stay, summed."""
    rows = session.exec(select(ReportCount).order_by(col(ReportCount.period))).all()
    totals: dict[str, ReportCountOut] = {}
    for r in rows:
        t = totals.setdefault(r.period, ReportCountOut(period=r.period))
        for name in COUNTS:
            setattr(t, name, getattr(t, name) + getattr(r, name))
    return list(totals.values())
