"""The caller, and aggregates anyone may see."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from sqlmodel import col, func, select

from api.assemble import remaining, shelter_of
from api.deps import CurrentUser, SessionDep, SettingsDep
from api.routes.shelters import committed_stays
from api.schemas import MeOut, StatsOut
from api.tables import ArrivalRow, Operation, PlacementRow, ShelterRow

router = APIRouter(tags=["me"])


@router.get("/me")
def me(who: CurrentUser) -> MeOut:
    """Who the token belongs to."""
    return MeOut(handle=who.handle, role=who.role, shelters=sorted(who.shelters))


@router.get("/stats")
def stats(who: CurrentUser, session: SessionDep, settings: SettingsDep) -> StatsOut:
    """Counts for the whole network (managers: for their own shelters)."""
    query = select(ShelterRow).where(col(ShelterRow.active))
    if who.role == "shelter_manager":
        query = query.where(col(ShelterRow.id).in_(who.shelters))
    rows = list(session.exec(query).all())
    tonight = datetime.now(UTC).date()
    shelters = [shelter_of(r.data) for r in rows]
    stays = committed_stays(session, [r.id for r in rows])
    free = remaining(shelters, stays, tonight, 1, settings.geography)
    places = remaining(shelters, [], tonight, 1, settings.geography)

    def count(q: object) -> int:
        return int(session.exec(q).one())  # type: ignore[call-overload]

    is_manager = who.role == "shelter_manager"
    arrivals = select(func.count()).select_from(ArrivalRow)
    return StatsOut(
        shelters=len(rows),
        places_tonight=sum((s.availability or ())[0].places for s in places if s.availability),
        free_places_tonight=sum((s.availability or ())[0].places for s in free if s.availability),
        arrivals_waiting=0 if is_manager else count(arrivals.where(ArrivalRow.status == "waiting")),
        arrivals_placed=0 if is_manager else count(arrivals.where(ArrivalRow.status == "placed")),
        operations=0 if is_manager else count(select(func.count()).select_from(Operation)),
        placements_active=count(
            select(func.count())
            .select_from(PlacementRow)
            .where(col(PlacementRow.active), col(PlacementRow.shelter_id).in_([r.id for r in rows]))
        ),
    )
