"""One draw solved against one network: what a worker computes.

The engine is called through its entry point :func:`solver.engine.solve_scenario`, in the
worker's process, with an explicit time limit, one CP-SAT worker and a fixed seed, and
without relaxation re-solves: a draw's result depends only on the draw and the network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from placement.admissibility import admissible_for_all
from placement.context import Context
from placement.explain import funnel
from placement.models import Arrival, Scenario, Shelter
from placement.occupancy import Occupancy
from placement.rules import HouseholdRule, load_of
from solver.engine import solve_scenario
from solver.options import EngineOptions, SolveOptions
from stress.draws import categories, draw_scenario, profile_of
from stress.groups import FULL, NO_SHELTER, OTHER_PLAN_RULES
from stress.spec import Candidate, StressSpec

#: bottleneck keys: ``no shelter: <rule>``, ``full: <shelter>``, and this one (a msgid of the
#: ``stress`` catalogue: ``stress.texts`` says them all in the reader's words)


@dataclass(frozen=True)
class DrawOutcome:
    """What one solve of one draw says. ``seconds`` is the only field that varies between
    runs; everything else depends only on the spec, the network and the draw index."""

    index: int
    status: str
    seconds: float
    requested: dict[int, int]  # persons by priority
    placed: dict[int, int]
    requested_by_group: dict[str, int] = field(default_factory=dict)
    unplaced_by_group: dict[str, int] = field(default_factory=dict)
    #: persons kept out, by reason (see :func:`bottlenecks`)
    bottlenecks: dict[str, int] = field(default_factory=dict)
    #: night indices on which each shelter is full (shelters full at least once)
    full_nights: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: départements whose places are all used on at least one night
    full_departments: tuple[str, ...] = ()

    @property
    def unplaced(self) -> int:
        return sum(self.requested.values()) - sum(self.placed.values())

    @property
    def total_placed(self) -> int:
        return sum(self.placed.values())


def engine_options(time_limit: float) -> EngineOptions:
    """The engine's settings for every draw: deterministic, one worker, no re-solves."""
    return EngineOptions(
        solver="cpsat",
        solve=SolveOptions(time_limit=time_limit, workers=1, seed=0),
        explain=False,
    )


def with_changes(network: Scenario, changes: Sequence[Candidate]) -> tuple[Shelter, ...]:
    """The network's shelters after the candidate changes."""
    shelters = list(network.shelters)
    position = {s.id: i for i, s in enumerate(shelters)}
    for change in changes:
        if change.new_shelter is not None:
            shelters.append(change.new_shelter.shelter(change.id))
            continue
        assert change.add_places is not None  # guaranteed by Candidate validation
        i = position[change.add_places.shelter]
        s, more = shelters[i], change.add_places.places
        if s.capacity is not None:
            shelters[i] = s.model_copy(update={"capacity": s.capacity + more})
        else:
            nightly = s.places_by_night(network.start, network.horizon_days, network.end)
            shelters[i] = s.with_nightly_places(network.start, [n + more for n in nightly])
    return tuple(shelters)


def solve_draw(
    network: Scenario,
    spec: StressSpec,
    index: int,
    changes: tuple[Candidate, ...] = (),
    detail: bool = True,
) -> DrawOutcome:
    """Draw ``index`` solved against ``network`` with ``changes``; ``detail``: also the groups,
    bottlenecks and saturation (the main sweep), else the persons placed only."""
    scenario = draw_scenario(network, spec, index, with_changes(network, changes))
    plan = solve_scenario(scenario, engine_options(spec.time_limit))
    requested = {int(p): n for p, n in plan.requested_persons_by_priority.items()}
    placed = {int(p): n for p, n in plan.placed_persons_by_priority.items()}
    outcome = DrawOutcome(index, plan.status, plan.solve_seconds, requested, placed)
    if not detail:
        return outcome
    ctx = Context(scenario)
    assignment = plan.assignment()
    requested_by, unplaced_by = _groups(spec, scenario.arrivals, assignment)
    occupancy = Occupancy.of_assignment(ctx, assignment)
    unplaced = [a for a in scenario.arrivals if a.id not in assignment]
    return DrawOutcome(
        index,
        plan.status,
        plan.solve_seconds,
        requested,
        placed,
        requested_by,
        unplaced_by,
        bottlenecks(ctx, occupancy, unplaced),
        *_saturation(ctx, occupancy),
    )


def _groups(
    spec: StressSpec, arrivals: Sequence[Arrival], assignment: dict[str, str]
) -> tuple[dict[str, int], dict[str, int]]:
    requested: Counter[str] = Counter()
    unplaced: Counter[str] = Counter()
    for a in arrivals:
        for group in categories(a, spec.profiles[profile_of(a.id)].name):
            requested[group] += a.persons
            if a.id not in assignment:
                unplaced[group] += a.persons
    return dict(requested), dict(unplaced)


def bottlenecks(ctx: Context, occupancy: Occupancy, unplaced: Sequence[Arrival]) -> dict[str, int]:
    """Persons kept out, by what keeps them out.

    ``no shelter: <rule>``: no shelter admits the person, and this pair rule removed the last
    ones (in the order of the rules). ``full: <shelter>``: the shelter admits the person (and
    their household) but has too few places on some night of the stay; a person counts once
    for each such shelter. Otherwise the capacity is there and a plan rule (keep-apart, the
    network cap) keeps them out.
    """
    out: Counter[str] = Counter()
    for a in unplaced:
        members = HouseholdRule.members_of(ctx, a)
        mask = admissible_for_all(ctx, members)
        if not mask.any():
            removed = funnel(ctx, a)
            out[f"{NO_SHELTER}{removed[-1][0].name if removed else 'household'}"] += a.persons
            continue
        candidates = np.flatnonzero(mask)
        room = occupancy.room(load_of(ctx, members), candidates)
        if room.any():
            out[OTHER_PLAN_RULES] += a.persons
        for si in candidates[~room]:
            out[f"{FULL}{ctx.scenario.shelters[si].id}"] += a.persons
    return dict(out)


def _saturation(
    ctx: Context, occupancy: Occupancy
) -> tuple[dict[str, tuple[int, ...]], tuple[str, ...]]:
    """Shelters full on some night (with the nights), and départements all of whose places
    are used on some night."""
    places = ctx.places_matrix()
    used = occupancy.capacity.used()
    full = (used >= places) & (places > 0)
    shelters = ctx.scenario.shelters
    full_nights = {
        shelters[i].id: tuple(int(n) for n in np.flatnonzero(full[i]))
        for i in np.flatnonzero(full.any(axis=1))
    }
    departments: dict[str, list[int]] = {}
    for i, s in enumerate(shelters):
        departments.setdefault(s.department, []).append(i)
    saturated = tuple(
        sorted(
            dep
            for dep, rows in departments.items()
            if (
                (used[rows].sum(axis=0) >= places[rows].sum(axis=0))
                & (places[rows].sum(axis=0) > 0)
            ).any()
        )
    )
    return full_nights, saturated
