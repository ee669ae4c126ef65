"""Aggregates anyone may see: counts and places tonight (managers: their own shelters),
never a case or an address. What the retention purge kept is ``api.retention``'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from api import store
from api.auth import Principal
from api.config import Settings
from api.read_cache import MAX_PER_SHELTER, Entry, ReadCache
from api.schemas import StatsOut
from api.services.capacity import remaining
from api.tables import ArrivalRow, Operation, PlacementRow, ShelterRow
from placement.models import Shelter


def _places_tonight(shelters: list[Shelter], tonight: date) -> int:
    return sum(s.places_on(tonight, tonight + timedelta(days=1)) for s in shelters)


def _places_by_shelter(
    session: Session, reading: Reading, only: frozenset[str] | None, tonight: date
) -> dict[str, int]:
    """Each active shelter's places tonight (``only`` these when given): kept per shelter in
    ``reading.cache`` under its version and tonight's date (``api.read_cache``), so that a
    capacity update makes one shelter read again, not all."""
    cache = reading.cache
    places: dict[str, int] = {}
    missing: list[str] = []
    for shelter_id, version, updated_at in store.active_shelter_versions(session, only):
        entry = cache.get(("places tonight", shelter_id), (version, updated_at, tonight))
        if entry is None:
            missing.append(shelter_id)
        else:
            places[shelter_id] = entry.body
    for row in store.active_shelters(session, missing) if missing else ():
        n = _places_tonight([row.shelter], tonight)
        cache.put(("places tonight", row.id), Entry((row.version, row.updated_at, tonight), n))
        places[row.id] = n
    return places


def _free_tonight(
    session: Session, settings: Settings, places: dict[str, int], tonight: date
) -> int:
    """Places left tonight: the capacity rule (``remaining``) runs only on the shelters that
    someone occupies tonight (read for it); the others have all their places free."""
    stays = [
        st
        for st in store.stays_between(session, tonight, tonight + timedelta(days=1))
        if st.shelter_id in places
    ]
    occupied = {st.shelter_id for st in stays}
    free = sum(n for sid, n in places.items() if sid not in occupied)
    if not occupied:
        return free
    used = [r.shelter for r in store.active_shelters(session, occupied)]
    return free + _places_tonight(remaining(used, stays, tonight, 1, settings.geography), tonight)


@dataclass(frozen=True)
class Reading:
    """The settings, and the cache of the places by shelter (a fresh one: computed afresh)."""

    settings: Settings
    cache: ReadCache = field(default_factory=lambda: ReadCache(MAX_PER_SHELTER))


def stats(
    session: Session, settings: Settings, who: Principal, cache: ReadCache | None = None
) -> StatsOut:
    """Counts for the whole network (managers: for their own shelters): the counts in one
    query; each shelter's places tonight kept in ``cache`` under its version, and only the
    shelters someone occupies tonight are read."""
    is_manager = who.role == "shelter_manager"
    tonight = datetime.now(UTC).date()
    reading = Reading(settings, cache) if cache is not None else Reading(settings)
    only = who.shelters if is_manager else None
    places = _places_by_shelter(session, reading, only, tonight)
    arrivals = select(func.count()).select_from(ArrivalRow)
    placed = (
        select(func.count())
        .select_from(PlacementRow)
        .join(ShelterRow, col(ShelterRow.id) == col(PlacementRow.shelter_id))
        .where(col(PlacementRow.active), col(ShelterRow.active))
    )
    if is_manager:
        placed = placed.where(col(ShelterRow.id).in_(sorted(who.shelters)))
    counts = [
        placed,
        arrivals.where(ArrivalRow.status == "waiting"),
        arrivals.where(ArrivalRow.status == "placed"),
        select(func.count()).select_from(Operation),
    ]
    if is_manager:
        counts = counts[:1]  # a manager's figures: their own shelters' only
    query = sa_select(*(q.scalar_subquery() for q in counts))
    figures = [int(n) for n in session.connection().execute(query).one()]
    waiting, arrived, operations = figures[1:] if not is_manager else (0, 0, 0)
    return StatsOut(
        shelters=len(places),
        places_tonight=sum(places.values()),
        free_places_tonight=_free_tonight(session, settings, places, tonight),
        arrivals_waiting=waiting,
        arrivals_placed=arrived,
        operations=operations,
        placements_active=figures[0],
    )
