"""Arrivals across operations (coordinators)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from sqlmodel import col, select

from api import audit
from api.deps import Coordinator, SessionDep
from api.errors import ApiError, not_found
from api.schemas import ArrivalOut
from api.tables import ArrivalRow
from api.views import arrival_out

router = APIRouter(prefix="/arrivals", tags=["arrivals"])


@router.get("")
def list_arrivals(
    who: Coordinator,
    session: SessionDep,
    status: Literal["waiting", "placed", "withdrawn"] | None = None,
) -> list[ArrivalOut]:
    """Arrivals, optionally by status."""
    query = select(ArrivalRow).order_by(col(ArrivalRow.created_at), col(ArrivalRow.id))
    if status is not None:
        query = query.where(ArrivalRow.status == status)
    rows = session.exec(query).all()
    audit.record(session, who, "read", "arrival", [r.id for r in rows])
    session.commit()
    return [arrival_out(r) for r in rows]


@router.get("/{arrival_id}")
def read_arrival(arrival_id: str, who: Coordinator, session: SessionDep) -> ArrivalOut:
    """One arrival, with its danger locations."""
    row = session.get(ArrivalRow, arrival_id)
    if row is None:
        raise not_found("arrival")
    audit.record(session, who, "read", "arrival", [row.id])
    session.commit()
    return arrival_out(row)


@router.delete("/{arrival_id}")
def withdraw_arrival(arrival_id: str, who: Coordinator, session: SessionDep) -> ArrivalOut:
    """Withdraw a waiting arrival (it will not be planned). A placed one must be freed first."""
    # locked: a concurrent commit either sees the withdrawal or is seen placing the arrival
    row = session.exec(
        select(ArrivalRow).where(ArrivalRow.id == arrival_id).with_for_update()
    ).first()
    if row is None:
        raise not_found("arrival")
    if row.status == "placed":
        raise ApiError(409, "arrival is placed", [("status", "free its placement first")])
    row.status = "withdrawn"
    row.version += 1
    session.add(row)
    audit.record(session, who, "write", "arrival", [row.id], detail="withdrawn")
    session.commit()
    session.refresh(row)
    return arrival_out(row)
