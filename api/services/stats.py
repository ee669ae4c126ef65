"""Aggregates anyone may see: counts and places tonight (managers: their own shelters),
never a case or an address. What the retention purge kept is ``api.retention``'s."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, func, select

from api import store
from api.auth import Principal
from api.config import Settings
from api.schemas import StatsOut
from api.services.capacity import remaining
from api.tables import ArrivalRow, Operation, PlacementRow
from placement.models import Shelter


def _places_tonight(shelters: list[Shelter], tonight: date) -> int:
    return sum(s.places_on(tonight, tonight + timedelta(days=1)) for s in shelters)


def _free_tonight(
    shelters: list[Shelter], stays: list[store.Stay], tonight: date, settings: Settings
) -> int:
    """Places left tonight: the capacity rule (``remaining``) runs only on the shelters that
    someone occupies tonight; the others have all their places free."""
    occupied = {st.shelter_id for st in stays}
    free = [s for s in shelters if s.id not in occupied]
    used = [s for s in shelters if s.id in occupied]
    left = remaining(used, stays, tonight, 1, settings.geography) if used else []
    return _places_tonight(free, tonight) + _places_tonight(left, tonight)


def stats(session: Session, settings: Settings, who: Principal) -> StatsOut:
    """Counts for the whole network (managers: for their own shelters): one query per
    figure; the shelters' documents are read once and only tonight's stays are loaded."""
    is_manager = who.role == "shelter_manager"
    rows = store.active_shelters(session, who.shelters if is_manager else None)
    tonight = datetime.now(UTC).date()
    shelters = [r.shelter for r in rows]
    ids = {r.id for r in rows}
    stays = [
        st
        for st in store.stays_between(session, tonight, tonight + timedelta(days=1))
        if st.shelter_id in ids
    ]

    def count(q: object) -> int:
        return int(session.exec(q).one())  # type: ignore[call-overload]

    arrivals = select(func.count()).select_from(ArrivalRow)
    return StatsOut(
        shelters=len(rows),
        places_tonight=_places_tonight(shelters, tonight),
        free_places_tonight=_free_tonight(shelters, stays, tonight, settings),
        arrivals_waiting=0 if is_manager else count(arrivals.where(ArrivalRow.status == "waiting")),
        arrivals_placed=0 if is_manager else count(arrivals.where(ArrivalRow.status == "placed")),
        operations=0 if is_manager else count(select(func.count()).select_from(Operation)),
        placements_active=count(
            select(func.count())
            .select_from(PlacementRow)
            .where(col(PlacementRow.active), col(PlacementRow.shelter_id).in_([r.id for r in rows]))
        ),
    )
