"""Aggregates anyone may see: counts and places tonight (managers: their own shelters),
never a case or an address. What the retention purge kept is ``api.retention``'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, func, select

from api import store
from api.auth import Principal
from api.config import Settings
from api.read_cache import Entry, ReadCache
from api.schemas import StatsOut
from api.services.capacity import remaining, stale_before
from api.tables import ArrivalRow, Operation, PlacementRow, ShelterRow
from placement.models import Shelter


def _places_tonight(shelters: list[Shelter], tonight: date) -> int:
    return sum(s.places_on(tonight, tonight + timedelta(days=1)) for s in shelters)


def _places_by_shelter(
    session: Session, reading: Reading, only: frozenset[str] | None, tonight: date
) -> dict[str, int]:
    """Each active shelter's places tonight (``only`` these when given), from the cache
    while the shelters' version is the same (``api.read_cache``)."""
    settings, cache = reading.settings, reading.cache
    version = (store.shelters_version(session, stale_before(settings)), tonight)
    key = ("places tonight", only)
    entry = cache.get(key, version)
    if entry is None:
        rows = store.active_shelters(session, only)
        places = {r.id: _places_tonight([r.shelter], tonight) for r in rows}
        entry = Entry(version, places)
        cache.put(key, entry)
    return dict(entry.body)


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
    cache: ReadCache = field(default_factory=ReadCache)


def stats(
    session: Session, settings: Settings, who: Principal, cache: ReadCache | None = None
) -> StatsOut:
    """Counts for the whole network (managers: for their own shelters): one query per
    figure; each shelter's places tonight are kept in ``cache`` while the shelters' version
    stays the same, and only the shelters someone occupies tonight are read."""
    is_manager = who.role == "shelter_manager"
    tonight = datetime.now(UTC).date()
    reading = Reading(settings, cache) if cache is not None else Reading(settings)
    only = who.shelters if is_manager else None
    places = _places_by_shelter(session, reading, only, tonight)

    def count(q: object) -> int:
        return int(session.exec(q).one())  # type: ignore[call-overload]

    arrivals = select(func.count()).select_from(ArrivalRow)
    placed = (
        select(func.count())
        .select_from(PlacementRow)
        .join(ShelterRow, col(ShelterRow.id) == col(PlacementRow.shelter_id))
        .where(col(PlacementRow.active), col(ShelterRow.active))
    )
    if is_manager:
        placed = placed.where(col(ShelterRow.id).in_(sorted(who.shelters)))
    return StatsOut(
        shelters=len(places),
        places_tonight=sum(places.values()),
        free_places_tonight=_free_tonight(session, settings, places, tonight),
        arrivals_waiting=0 if is_manager else count(arrivals.where(ArrivalRow.status == "waiting")),
        arrivals_placed=0 if is_manager else count(arrivals.where(ArrivalRow.status == "placed")),
        operations=0 if is_manager else count(select(func.count()).select_from(Operation)),
        placements_active=count(placed),
    )
