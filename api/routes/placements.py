"""Committed placements: coordinators see and free them; managers see their own shelter's."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import Session, col, select

from api import audit
from api.db import with_retry
from api.deps import (
    Coordinator,
    CoordinatorOrManager,
    EngineDep,
    RowId,
    SessionDep,
    SettingsDep,
)
from api.errors import ApiError, not_found
from api.live import retry_waitlist
from api.routes.shelters import lock_shelters
from api.schemas import ManagerPlacementOut, PlacementOut
from api.tables import ArrivalRow, PlacementRow, utcnow
from api.views import manager_placement_out, placement_out

router = APIRouter(prefix="/placements", tags=["placements"])


@router.get("", response_model=list[PlacementOut] | list[ManagerPlacementOut])
def list_placements(
    who: CoordinatorOrManager, session: SessionDep, active: bool = True
) -> list[PlacementOut] | list[ManagerPlacementOut]:
    """Placements: all for coordinators; for a manager, those into their own shelters."""
    query = select(PlacementRow, ArrivalRow).join(
        ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id)
    )
    query = query.where(PlacementRow.active == active).order_by(col(PlacementRow.id))
    if who.role == "shelter_manager":
        query = query.where(col(PlacementRow.shelter_id).in_(who.shelters))
    rows = session.exec(query).all()
    audit.record(session, who, "read", "placement", [p.id for p, _ in rows if p.id])
    session.commit()
    if who.role == "coordinator":
        return [placement_out(p) for p, _ in rows]
    return [manager_placement_out(p, a) for p, a in rows]


@router.get("/{placement_id}", response_model=PlacementOut | ManagerPlacementOut)
def read_placement(
    placement_id: RowId, who: CoordinatorOrManager, session: SessionDep
) -> PlacementOut | ManagerPlacementOut:
    """One placement (managers: only into their own shelter)."""
    row = session.get(PlacementRow, placement_id)
    if row is None or (who.role == "shelter_manager" and not who.manages(row.shelter_id)):
        raise not_found("placement")
    arrival = session.get(ArrivalRow, row.arrival_id)
    assert arrival is not None
    audit.record(session, who, "read", "placement", [placement_id])
    session.commit()
    if who.role == "coordinator":
        return placement_out(row)
    return manager_placement_out(row, arrival)


@router.delete("/{placement_id}")
def free_placement(
    placement_id: RowId, who: Coordinator, engine: EngineDep, settings: SettingsDep
) -> PlacementOut:
    """Free a committed placement: its places return, its arrival waits again."""

    def transaction() -> PlacementOut:
        with Session(engine) as session:
            row = session.get(PlacementRow, placement_id)
            if row is None:
                raise not_found("placement")
            shelter = lock_shelters(session, [row.shelter_id]).get(row.shelter_id)
            session.refresh(row)
            if not row.active:
                raise ApiError(409, "placement already freed", [("active", "false")])
            row.active, row.released_at, row.released_by = False, utcnow(), who.id
            arrival = session.get(ArrivalRow, row.arrival_id)
            if arrival is not None:
                arrival.status = "waiting"
                arrival.version += 1
                session.add(arrival)
            if shelter is not None:
                shelter.version += 1
                session.add(shelter)
            session.add(row)
            audit.record(session, who, "write", "placement", [placement_id], detail="freed")
            session.commit()
            session.refresh(row)
            return placement_out(row)

    out = with_retry(transaction)

    def retry() -> None:  # the freed places go to the waiting list (not to the freed person)
        with Session(engine) as session:
            retry_waitlist(session, settings, None, utcnow())
            session.commit()

    with_retry(retry)
    return out
