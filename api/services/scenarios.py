"""Building the engine scenario a solve runs on, from the stored state (``build_scenario``).

Solving it is the engine's (``solver.engine``); this module only puts the shelters (with
the places committed placements leave, see ``api.services.capacity``) and the arrivals into
one ``placement.models.Scenario``, and names the arrival in each problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError

from api.store import Stay
from placement.geography import GeographyCode
from placement.loading import ScenarioError
from placement.models import Arrival, Policy, Scenario, Shelter
from placement.problems import validation_problems as problem_messages

_INDEX = re.compile(r"\b(arrivals|shelters)\[(\d+)\]")


@dataclass(frozen=True)
class Horizon:
    """The nights a scenario plans: ``days`` nights from ``start``, in ``geography``."""

    start: date
    days: int
    geography: GeographyCode


def _kept_apart(
    arrivals: Sequence[Arrival], placed: Sequence[Stay], offered: set[str]
) -> list[Arrival]:
    """Keep-apart links to people outside the solve become excluded shelters."""
    ids = {a.id for a in arrivals}
    where = {stay.arrival.id: stay.shelter_id for stay in placed}
    partners: dict[str, set[str]] = {a.id: set(a.keep_apart) for a in arrivals}
    for stay in placed:
        for other in stay.arrival.keep_apart:
            if other in partners:
                partners[other].add(stay.arrival.id)
    return [
        a.model_copy(
            update={
                "keep_apart": tuple(k for k in a.keep_apart if k in ids),
                "exclude_shelters": tuple(
                    sorted(
                        {x for x in a.exclude_shelters if x in offered}
                        | {where[p] for p in partners[a.id] if p in where and where[p] in offered}
                    )
                ),
            }
        )
        for a in arrivals
    ]


def build_scenario(
    name: str,
    horizon: Horizon,
    shelters: Sequence[Shelter],
    arrivals: Sequence[Arrival],
    policy: Policy,
    placed: Sequence[Stay] = (),
) -> Scenario:
    """The scenario a plan job solves. Problems name the arrival: ``arrivals[A12].arrives``.

    Keep-apart partners outside this solve are not arrivals of the scenario; those already
    ``placed`` turn into excluded shelters (where the partner is), so the rule still holds.
    """
    docs = _kept_apart(arrivals, placed, {s.id for s in shelters})
    data = {
        "name": name,
        "start": horizon.start,
        "horizon_days": horizon.days,
        "geography": horizon.geography,
        "policy": policy.model_dump(by_alias=True),
        "shelters": [s.model_dump(by_alias=True) for s in shelters],
        "arrivals": [a.model_dump(by_alias=True) for a in docs],
    }
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        names = {"arrivals": [a.id for a in docs], "shelters": [s.id for s in shelters]}

        def by_id(m: re.Match[str]) -> str:
            return f"{m[1]}[{names[m[1]][int(m[2])]}]"

        problems = [(_INDEX.sub(by_id, path), p) for path, p in problem_messages(e)]
        raise ScenarioError(name, problems) from None
