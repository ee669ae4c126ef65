"""Aggregates anyone may see: counts and places tonight (managers: their own shelters),
never a case or an address. What the retention purge kept is ``api.retention``'s."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from api import store
from api.auth import Principal
from api.config import Settings
from api.schemas import StatsOut
from api.services.capacity import remaining
from api.tables import ArrivalRow, Operation, PlacementRow
from placement.models import Shelter


def _places_tonight(shelters: list[Shelter]) -> int:
    return sum((s.availability or ())[0].places for s in shelters if s.availability)


def stats(session: Session, settings: Settings, who: Principal) -> StatsOut:
    """Counts for the whole network (managers: for their own shelters)."""
    is_manager = who.role == "shelter_manager"
    rows = store.active_shelters(session, who.shelters if is_manager else None)
    tonight = datetime.now(UTC).date()
    shelters = [r.shelter for r in rows]
    stays = store.committed_stays(session, [r.id for r in rows])
    free = remaining(shelters, stays, tonight, 1, settings.geography)
    places = remaining(shelters, [], tonight, 1, settings.geography)

    def count(q: object) -> int:
        return int(session.exec(q).one())  # type: ignore[call-overload]

    arrivals = select(func.count()).select_from(ArrivalRow)
    return StatsOut(
        shelters=len(rows),
        places_tonight=_places_tonight(places),
        free_places_tonight=_places_tonight(free),
        arrivals_waiting=0 if is_manager else count(arrivals.where(ArrivalRow.status == "waiting")),
        arrivals_placed=0 if is_manager else count(arrivals.where(ArrivalRow.status == "placed")),
        operations=0 if is_manager else count(select(func.count()).select_from(Operation)),
        placements_active=count(
            select(func.count())
            .select_from(PlacementRow)
            .where(col(PlacementRow.active), col(PlacementRow.shelter_id).in_([r.id for r in rows]))
        ),
    )
