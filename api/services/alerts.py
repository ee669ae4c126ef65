"""Alerts for coordinators: escalated proposals, people left without a place, re-plans.

They are raised by the scheduler (``api.scheduler``) and the re-plans
(``api.services.replanning``); here they are read (the arrivals they name are audited) and
resolved.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from api import audit
from api.auth import Principal
from api.domain_errors import Conflict, NotFound
from api.store import FIRST_PAGE, Page
from api.tables import Alert, utcnow
from placement.text import message


def alerts(
    session: Session,
    who: Principal,
    open_only: bool = True,
    kind: str | None = None,
    page: Page = FIRST_PAGE,
) -> list[Alert]:
    """Alerts (only the unresolved ones when ``open_only``), of one ``kind`` if given."""
    query = select(Alert).order_by(col(Alert.id))
    if open_only:
        query = query.where(col(Alert.resolved_at).is_(None))
    if kind:
        query = query.where(Alert.kind == kind)
    rows = list(session.exec(page.apply(query)).all())
    audit.record_reads(
        session, who, "arrival", sorted({r.arrival_id for r in rows if r.arrival_id}), "alerts"
    )
    return rows


def resolve_alert(session: Session, alert_id: int, who: Principal) -> Alert:
    """Mark an alert as dealt with; ``Conflict`` if it already was."""
    row = session.get(Alert, alert_id)
    if row is None:
        raise NotFound("alert")
    if row.resolved_at is not None:
        raise Conflict(message("alert already resolved"), [("resolved_at", str(row.resolved_at))])
    row.resolved_at = utcnow()
    session.add(row)
    audit.record(session, who, "write", "alert", [alert_id], "resolved")
    session.commit()
    session.refresh(row)
    return row
