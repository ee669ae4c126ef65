"""The max-flow bound is a true upper bound on the CP-SAT optimum, and exact when nothing binds
that it relaxes."""

from __future__ import annotations

import time

import pytest

from placement.generate import generate_scenario
from placement.models import Scenario
from solver.engine import solve_scenario
from solver.flow_bound import flow_bound, stabbing_nights
from solver.options import EngineOptions, SolveOptions

OPTIONS = EngineOptions(solve=SolveOptions(time_limit=20), explain=False)


def cumulative_placed(scenario: Scenario) -> dict[int, int]:
    plan = solve_scenario(scenario, OPTIONS)
    assert plan.status == "optimal"
    placed = {int(k): v for k, v in plan.placed_persons_by_priority.items()}
    return {p: sum(v for q, v in placed.items() if q >= p) for p in range(5, 0, -1)}


def simplified(scenario: Scenario) -> Scenario:
    """No children, households, keep-apart, calendars; everyone stays the whole horizon."""
    arrivals = tuple(
        a.model_copy(
            update={
                "children": 0,
                "household": None,
                "keep_apart": (),
                "arrives": None,
                "nights": None,
            }
        )  # fmt: skip
        for a in scenario.arrivals
    )
    shelters = tuple(
        s
        if s.capacity is not None
        else s.model_copy(
            update={"availability": None, "capacity": min(r.places for r in s.availability or ())}
        )
        for s in scenario.shelters
    )
    return Scenario.model_validate(
        scenario.model_copy(update={"arrivals": arrivals, "shelters": shelters}).model_dump()
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bound_is_at_least_the_optimum(seed: int) -> None:
    scenario = generate_scenario(50, 120, seed=seed, network_cap=2 if seed == 3 else None)
    bound = flow_bound(scenario)
    placed = cumulative_placed(scenario)
    for p in range(5, 0, -1):
        assert placed[p] <= bound.cumulative[p] <= bound.requested[p], p
    assert bound.cumulative[1] < bound.requested[1]  # supply is short: the bound says so


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bound_is_exact_when_the_relaxation_is(seed: int) -> None:
    scenario = simplified(generate_scenario(50, 120, seed=seed))
    bound = flow_bound(scenario)
    assert len(bound.checkpoints) == 1
    assert cumulative_placed(scenario) == bound.cumulative


def test_stabbing_nights_hit_every_stay() -> None:
    stays = [range(0, 7), range(3, 10), range(8, 30), range(29, 30), range(5, 6)]
    points = stabbing_nights(stays)
    assert points == [5, 29]
    assert all(any(p in r for p in points) for r in stays)


def test_a_deadline_already_past_gives_the_trivial_bound_at_once() -> None:
    # A solve whose first plan used its time: no network is built, every level's bound is
    # what was requested (a valid bound), the same as a late deadline's levels get.
    sc = generate_scenario(60, 120, seed=3)
    late = flow_bound(sc, deadline=time.monotonic() - 1)
    assert late.cumulative == late.requested and late.arcs == 0
    full = flow_bound(sc)
    assert full.requested == late.requested
    assert all(full.cumulative[p] <= late.cumulative[p] for p in late.cumulative)
    assert full.cumulative != late.cumulative  # here the relaxation says more
