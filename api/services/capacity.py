"""Committed places reduce capacity: what a shelter still offers, night by night.

Committed placements (and holds) hold their places: a solve sees each shelter's places minus
what they use (``remaining``, computed with the engine's ``placement.rules.CapacityRule``),
and a commit, a hold or a calendar change is checked by ``CapacityRule`` against everything
committed (``capacity_problems``). Whether a shelter's places are stale is decided here too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.config import Settings
from api.store import Stay
from api.tables import Hold, ShelterRow, aware, utcnow
from placement.context import Context
from placement.geography import GeographyCode
from placement.models import EARLIEST_DATE, Arrival, Availability, Scenario, Shelter
from placement.rules import CapacityRule
from placement.text import Text

MAX_WINDOW_DAYS = 366


def stale_before(settings: Settings, now: datetime | None = None) -> datetime:
    """Places last updated before this moment are stale (``stale_after_hours`` ago)."""
    return (now or utcnow()) - timedelta(hours=settings.stale_after_hours)


def is_stale(row: ShelterRow, settings: Settings, now: datetime | None = None) -> bool:
    """True when the shelter's places were not updated within ``stale_after_hours``."""
    return stale_since(row.capacity_updated_at, stale_before(settings, now))


def stale_since(capacity_updated_at: datetime, before: datetime) -> bool:
    """True when places last updated at ``capacity_updated_at`` are stale at the moment whose
    ``stale_before`` is ``before``."""
    return aware(capacity_updated_at) < before


def clip(shelter: Shelter, start: date, end: date) -> Shelter:
    """The shelter with its calendar cut to the nights [start, end)."""
    if shelter.availability is None:
        return shelter
    ranges = []
    for r in shelter.availability:
        lo, hi = max(r.from_, start), min(r.to or end, end)
        if lo < hi:
            ranges.append(
                Availability.model_validate(
                    {"from": lo, "to": None if hi >= end else hi, "places": r.places}
                )
            )
    return shelter.model_copy(update={"availability": tuple(ranges)})


def _stay_arrival(stay: Stay, start: date, end: date, uid: str) -> Arrival | None:
    lo, hi = max(stay.first_night, start), min(stay.last_night, end - timedelta(days=1))
    if lo > hi:
        return None
    return stay.arrival.model_copy(
        update={
            "id": uid,
            "arrives": lo,
            "nights": (hi - lo).days + 1,
            "keep_apart": (),
            "exclude_shelters": (),
            "household": None,
            "network": None,
        }
    )


def stays_scenario(
    shelters: Sequence[Shelter],
    stays: Sequence[Stay],
    start: date,
    days: int,
    geography: GeographyCode,
) -> tuple[Scenario, dict[str, str]]:
    """A scenario holding ``stays`` (clipped to the window) and the assignment placing them."""
    end = start + timedelta(days=days)
    arrivals = []
    assignment = {}
    for i, stay in enumerate(stays):
        uid = f"stay-{i}"
        a = _stay_arrival(stay, start, end, uid)
        if a is not None:
            arrivals.append(a)
            assignment[uid] = stay.shelter_id
    scenario = Scenario(
        name="committed",
        start=start,
        horizon_days=days,
        geography=geography,
        shelters=tuple(clip(s, start, end) for s in shelters),
        arrivals=tuple(arrivals),
    )
    return scenario, assignment


def capacity_problems(
    shelters: Sequence[Shelter], stays: Sequence[Stay], geography: GeographyCode
) -> list[Text]:
    """``CapacityRule`` violations of ``stays`` in ``shelters``, over the nights they cover
    (messages, rendered in the reader's language)."""
    if not stays:
        return []
    start = min(s.first_night for s in stays)
    last = max(s.last_night for s in stays)
    days = min((last - start).days + 1, MAX_WINDOW_DAYS)
    scenario, assignment = stays_scenario(shelters, stays, start, days, geography)
    return CapacityRule().check(Context(scenario), assignment)


def remaining(
    shelters: Sequence[Shelter],
    committed: Sequence[Stay],
    start: date,
    days: int,
    geography: GeographyCode,
) -> list[Shelter]:
    """Each shelter with the places that committed placements leave free, night by night."""
    scenario, assignment = stays_scenario(shelters, committed, start, days, geography)
    ctx = Context(scenario)
    usage = CapacityRule.usage_by_shelter(ctx, assignment)
    out = []
    for s in scenario.shelters:
        places = ctx.nightly_places(s)
        used = usage.get(s.id, [0] * days)
        free = [max(0, p - u) for p, u in zip(places, used, strict=True)]
        out.append(s.with_nightly_places(start, free))
    return out


# --- holds use places like stand-in arrivals --------------------------------------------


def stand_in(arrival_id: str, places: int) -> Arrival:
    """An arrival that uses ``places`` places (no case data in it): the person and
    ``places - 1`` children (one place per person), so checks stay ``CapacityRule``'s."""
    return Arrival.model_validate(
        {
            "id": arrival_id,
            "gender": "woman",
            "languages": ["fr"],
            "children": places - 1,
            "danger": [{"lat": 0.0, "lon": 0.0}],
        }
    )


def held_stays(holds: Sequence[Hold], but_operations: Collection[int] = ()) -> list[Stay]:
    """The holds (except those of ``but_operations``) as stays that use their places."""
    return [
        Stay(stand_in(f"hold-{h.id}", h.places), h.shelter_id, h.first_night, h.last_night)
        for h in holds
        if h.operation_id not in but_operations
    ]


# --- a shelter's calendar, night by night (the manager's page) ---------------------------
@dataclass(frozen=True)
class Night:
    """One night of a shelter's calendar: its places, and those committed placements and
    holds take."""

    night: date
    places: int
    taken: int

    @property
    def free(self) -> int:
        """Places still free that night (never below 0, even when over-committed)."""
        return max(0, self.places - self.taken)


def nights(
    shelter: Shelter, stays: Sequence[Stay], start: date, days: int, geography: GeographyCode
) -> list[Night]:
    """The shelter's places and what ``stays`` take of them, on ``days`` nights from
    ``start`` (usage counted by ``CapacityRule``, like every capacity check)."""
    days = max(1, min(days, MAX_WINDOW_DAYS))
    scenario, assignment = stays_scenario([shelter], stays, start, days, geography)
    ctx = Context(scenario)
    places = ctx.nightly_places(scenario.shelters[0])
    used = CapacityRule.usage_by_shelter(ctx, assignment).get(shelter.id, [0] * days)
    return [Night(start + timedelta(days=i), places[i], used[i]) for i in range(days)]


def _ranges(shelter: Shelter) -> list[tuple[date, date | None, int]]:
    if shelter.capacity is not None:
        return [(EARLIEST_DATE, None, shelter.capacity)]
    return [(r.from_, r.to, r.places) for r in shelter.availability or ()]


def _merged(ranges: list[tuple[date, date | None, int]]) -> list[tuple[date, date | None, int]]:
    out: list[tuple[date, date | None, int]] = []
    for lo, hi, places in sorted(ranges, key=lambda r: r[0]):
        if out and out[-1][1] == lo and out[-1][2] == places:
            out[-1] = (out[-1][0], hi, places)
        else:
            out.append((lo, hi, places))
    return out


def with_night_places(shelter: Shelter, night: date, places: int) -> Shelter:
    """The shelter with ``places`` places on ``night`` and its calendar unchanged on every
    other night (a constant ``capacity`` becomes availability ranges)."""
    after = night + timedelta(days=1)
    ranges: list[tuple[date, date | None, int]] = [(night, after, places)]
    for lo, hi, n in _ranges(shelter):
        if hi is not None and hi <= night or lo > night:
            ranges.append((lo, hi, n))
            continue
        if lo < night:
            ranges.append((lo, night, n))
        if hi is None or hi > after:
            ranges.append((after, hi, n))
    docs = [{"from": lo, "to": hi, "places": n} for lo, hi, n in _merged(ranges)]
    return shelter.model_copy(
        update={
            "capacity": None,
            "availability": tuple(Availability.model_validate(d) for d in docs),
        }
    )
