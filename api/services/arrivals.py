"""Arrivals across operations: list, read (audited), withdraw a waiting one."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api import audit
from api.auth import Principal
from api.domain_errors import Conflict, NotFound
from api.store import FIRST_PAGE, Page
from api.tables import ArrivalRow
from placement.text import message


def arrivals(
    session: Session, who: Principal, status: str | None = None, page: Page = FIRST_PAGE
) -> list[ArrivalRow]:
    """Arrivals, optionally by status (the read is audited)."""
    query = select(ArrivalRow).order_by(col(ArrivalRow.created_at), col(ArrivalRow.id))
    if status is not None:
        query = query.where(ArrivalRow.status == status)
    rows = list(session.exec(page.apply(query)).all())
    audit.record_reads(session, who, "arrival", [r.id for r in rows])
    return rows


def read_arrival(session: Session, arrival_id: str, who: Principal) -> ArrivalRow:
    """One arrival, with its danger locations (the read is audited)."""
    row = session.get(ArrivalRow, arrival_id)
    if row is None:
        raise NotFound("arrival")
    audit.record_reads(session, who, "arrival", [row.id])
    return row


def withdraw_arrival(session: Session, arrival_id: str, who: Principal) -> ArrivalRow:
    """Withdraw a waiting arrival (it will not be planned); a placed one must be freed first."""
    # locked: a concurrent commit either sees the withdrawal or is seen placing the arrival
    row = session.exec(
        select(ArrivalRow).where(ArrivalRow.id == arrival_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("arrival")
    if row.status == "placed":
        raise Conflict(
            message("arrival is placed"), [("status", message("free its placement first"))]
        )
    row.status = "withdrawn"
    row.version += 1
    session.add(row)
    audit.record(session, who, "write", "arrival", [row.id], detail="withdrawn")
    session.commit()
    session.refresh(row)
    return row
