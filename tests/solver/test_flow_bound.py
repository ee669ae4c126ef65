"""The max-flow bound is a true upper bound on the CP-SAT optimum, and exact when nothing binds
that it relaxes."""

from __future__ import annotations

import time
from itertools import accumulate

import pytest

from placement.context import Context, persons_by_priority
from placement.generate import generate_scenario
from placement.models import PRIORITIES, Scenario
from solver.allocation import to_assignment
from solver.engine import solve_scenario
from solver.flow_bound import flow_bound, stabbing_nights
from solver.options import EngineOptions, SolveOptions
from solver.packing import first_plan
from solver.units import build_units

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


def test_shelters_admissible_for_the_same_units_are_one_node() -> None:
    # Every shelter twice (a twin with its own id): a twin admits the units its shelter
    # does, so they are one node with their places summed: the network has the nodes and
    # arcs it had without the twins, and the bound counts the twins' places.
    scenario = generate_scenario(60, 150, seed=2)
    twins = tuple(s.model_copy(update={"id": f"{s.id}-twin"}) for s in scenario.shelters)
    with_twins = flow_bound(
        Scenario.model_validate(
            scenario.model_copy(update={"shelters": scenario.shelters + twins}).model_dump()
        )
    )
    alone = flow_bound(scenario)
    assert (with_twins.shelter_nodes, with_twins.arcs) == (alone.shelter_nodes, alone.arcs)
    assert all(with_twins.cumulative[p] >= alone.cumulative[p] for p in PRIORITIES)
    assert with_twins.cumulative != alone.cumulative  # the twins' places count


def test_a_level_a_plan_fills_needs_no_max_flow() -> None:
    # The first plan places every admissible person at the upper levels: those are their
    # bound without a max flow; the bound is the same as with every max flow solved.
    ctx = Context(generate_scenario(300, 1000, seed=1))
    units = build_units(ctx)
    placed = persons_by_priority(ctx, list(to_assignment(units, first_plan(ctx, units))))
    reached = dict(zip(PRIORITIES, accumulate(placed[str(p)] for p in PRIORITIES), strict=True))
    full = flow_bound(ctx, units)
    short = flow_bound(ctx, units, reached=reached)
    assert short.cumulative == full.cumulative
    settled = [p for p in PRIORITIES if reached[p] == full.cumulative[p]]
    assert 0 < len(settled) < len(PRIORITIES)  # some levels filled, not all
    assert (full.max_flows, short.max_flows) == (5, 5 - len(settled))
