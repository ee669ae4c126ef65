"""Build engine scenarios from the stored state; check places with the engine's own rules.

Committed placements hold their places: a solve sees each shelter's places minus what
committed placements use (computed with ``placement.rules.CapacityRule``), and a commit or a
calendar change is checked by ``CapacityRule`` against everything committed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from placement.context import Context
from placement.geography import GeographyCode
from placement.loading import ScenarioError, validation_problems
from placement.models import Arrival, Availability, Policy, Scenario, Shelter
from placement.rules import CapacityRule

MAX_WINDOW_DAYS = 366
_INDEX = re.compile(r"\b(arrivals|shelters)\[(\d+)\]")


@dataclass(frozen=True)
class Stay:
    """A (committed or proposed) placement: who, where, which nights."""

    arrival: dict[str, Any]  # the stored arrival document
    shelter_id: str
    first_night: date
    last_night: date


def shelter_of(data: dict[str, Any]) -> Shelter:
    """The engine shelter stored in a row."""
    return Shelter.model_validate(data)


def _availability(start: date, end: date, places: int) -> Availability:
    return Availability.model_validate(
        {"from": start, "to": None if end is None else end, "places": places}
    )


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
    a = Arrival.model_validate(stay.arrival)
    return a.model_copy(
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
) -> list[str]:
    """``CapacityRule`` violations of ``stays`` in ``shelters``, over the nights they cover."""
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


def solve_scenario(
    name: str,
    shelters: Sequence[Shelter],
    arrivals: Iterable[dict[str, Any]],
    start: date,
    days: int,
    policy: Policy,
    geography: GeographyCode,
    placed: Sequence[Stay] = (),
) -> Scenario:
    """The scenario a plan job solves. Problems name the arrival: ``arrivals[A12].arrives``.

    Keep-apart partners outside this solve are not arrivals of the scenario; those already
    ``placed`` turn into excluded shelters (where the partner is), so the rule still holds.
    """
    docs = list(arrivals)
    ids = {d["id"] for d in docs}
    where = {stay.arrival["id"]: stay.shelter_id for stay in placed}
    partners: dict[str, set[str]] = {d["id"]: set(d.get("keep_apart", ())) for d in docs}
    for stay in placed:
        for other in stay.arrival.get("keep_apart", ()):
            if other in partners:
                partners[other].add(stay.arrival["id"])
    offered = {s.id for s in shelters}
    docs = [
        {
            **d,
            "keep_apart": [k for k in d.get("keep_apart", ()) if k in ids],
            "exclude_shelters": sorted(
                {x for x in d.get("exclude_shelters", ()) if x in offered}
                | {where[p] for p in partners[d["id"]] if p in where and where[p] in offered}
            ),
        }
        for d in docs
    ]
    data = {
        "name": name,
        "start": start,
        "horizon_days": days,
        "geography": geography,
        "policy": policy.model_dump(by_alias=True),
        "shelters": [s.model_dump(by_alias=True) for s in shelters],
        "arrivals": docs,
    }
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        names = {"arrivals": [d["id"] for d in docs], "shelters": [s.id for s in shelters]}

        def by_id(m: re.Match[str]) -> str:
            return f"{m[1]}[{names[m[1]][int(m[2])]}]"

        problems = [_INDEX.sub(by_id, p) for p in validation_problems(e)]
        raise ScenarioError(name, problems) from None
