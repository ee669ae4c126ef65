"""Re-planning one person after a decline: everyone else stays where they are."""

from __future__ import annotations

import itertools

import pytest

from placement.context import Context
from placement.costs import placement_cost
from placement.generate import generate_scenario
from placement.validation import plan_violations
from solver.replan import replan_unit
from tests.builders import arrival, placed, scenario, shelter, solve


def test_declining_shelter_is_excluded_and_others_stay():
    # A in S (nearest); S declines: A goes to T, B stays in U untouched.
    sc = scenario(
        [shelter("S"), shelter("T", "29"), shelter("U", "33")],
        [arrival("A", priority=3), arrival("B")],
    )
    fixed = {"B": "U"}
    result = replan_unit(Context(sc), fixed, "A", exclude={"S"})
    assert result.shelter == "T"
    assert plan_violations(Context(sc), {**fixed, "A": "T"}) == []


def test_no_place_left_says_so():
    sc = scenario([shelter("S"), shelter("T", "29")], [arrival("A"), arrival("B")])
    result = replan_unit(Context(sc), {"B": "T"}, "A", exclude={"S"})
    assert result.shelter is None
    assert (result.admissible, result.with_room) == (1, 0)


def test_household_replanned_together_and_keep_apart_respected():
    sc = scenario(
        [shelter("S", capacity=2), shelter("T", "29", capacity=2), shelter("U", "33", capacity=3)],
        [
            arrival("h1", household="h"),
            arrival("h2", household="h"),
            arrival("madam", keep_apart=["h1"]),
        ],
    )
    result = replan_unit(Context(sc), {"madam": "T"}, "h1", exclude={"S"})
    assert result.arrival_ids == ("h1", "h2")
    assert result.shelter == "U"  # T has room but holds the person h1 must be kept apart from


@pytest.mark.slow
def test_replan_matches_exhaustive_search_on_generated_instance():
    # With everyone else fixed, the answer must be the cheapest shelter that keeps the whole
    # plan valid: check against trying every shelter with the validator.
    sc = generate_scenario(40, 60, seed=5)
    plan = solve(sc, explain=False)
    ctx = Context(sc)
    assignment = placed(plan)
    checked = 0
    for aid in itertools.islice(sorted(assignment), 12):
        a = ctx.arrivals[aid]
        if a.household is not None:
            continue
        declined = assignment[aid]
        fixed = {k: v for k, v in assignment.items() if k != aid}
        result = replan_unit(ctx, fixed, aid, exclude={declined})
        valid = [
            s
            for s in sc.shelters
            if s.id != declined and plan_violations(ctx, {**fixed, aid: s.id}) == []
        ]
        if not valid:
            assert result.shelter is None
        else:
            cheapest = min(placement_cost(ctx, a, s).total for s in valid)
            assert result.shelter is not None
            assert placement_cost(ctx, a, ctx.shelters[result.shelter]).total == cheapest
        checked += 1
    assert checked >= 5
