"""CP-SAT on neighbourhoods of the unplaced (solver.lns): it places who the one-step moves
cannot, no level ever loses a person, and every plan passes the validator."""

from __future__ import annotations

import time
from typing import Any

import pytest

from placement.context import Context, persons_by_priority
from placement.generate import generate_scenario
from placement.validation import plan_violations
from solver import lns
from solver.allocation import Allocation, to_assignment
from solver.engine import plan_assignment
from solver.lns import LnsLimits, lns_moves
from solver.options import EngineOptions, SolveOptions
from solver.packing import augment, packing_allocation
from solver.progress import NEIGHBOURHOODS_STAGE, ProgressEvent
from solver.units import build_units
from tests.builders import arrival, scenario, shelter

OPTIONS = SolveOptions(time_limit=5, workers=1)
#: two passes over the unplaced: enough for what these tests check, in about a second
TWO_PASSES = LnsLimits(passes=2)


def _cumulative(ctx: Context, assignment: dict[str, str]) -> list[int]:
    placed = persons_by_priority(ctx, list(assignment))
    return [sum(placed[str(q)] for q in range(p, 6)) for p in (5, 4, 3, 2, 1)]


def _mother_and_two_women() -> Context:
    # "a" takes children and has 2 places; "b" takes no children and has 2 places. The
    # mother (1 child: 2 places) fits only in "a"; the two women fit in either.
    return Context(
        scenario(
            [shelter("a", capacity=2, children=True), shelter("b", capacity=2)],
            [
                arrival("mother", children=1),
                arrival("w1", languages=["fr"]),
                arrival("w2", languages=["de"]),
            ],
        )
    )


def test_mother_placed_when_two_women_must_both_leave_her_only_shelter() -> None:
    ctx = _mother_and_two_women()
    units = build_units(ctx)
    unit = {i: units.unit_of[i] for i in ("mother", "w1", "w2")}
    # The women hold both places of "a": moving one of them out (the one-step moves) frees
    # one place, and the mother needs two. Optimum: both women in "b", the mother in "a":
    # 4 persons.
    start: Allocation = {unit["w1"]: {"a": 1}, unit["w2"]: {"a": 1}}
    stuck = to_assignment(units, augment(ctx, units, start))
    assert "mother" not in stuck
    after = to_assignment(units, lns_moves(ctx, units, start, time.monotonic() + 5, OPTIONS))
    assert after == {"mother": "a", "w1": "b", "w2": "b"}
    assert plan_violations(ctx, after) == []


def test_nothing_changes_when_nobody_can_be_added() -> None:
    ctx = _mother_and_two_women()
    units = build_units(ctx)
    unit = {i: units.unit_of[i] for i in ("mother", "w1", "w2")}
    # Everyone is placed already: the search has no unit to aim at.
    start: Allocation = {unit["mother"]: {"a": 1}, unit["w1"]: {"b": 1}, unit["w2"]: {"b": 1}}
    after = lns_moves(ctx, units, start, time.monotonic() + 5, OPTIONS)
    assert after == start


@pytest.mark.parametrize(
    ("seed", "supply", "family"),
    [
        (3, 0.7, "standard"),
        (1, 1.3, "hard"),
        # measured: level 2 gains a person and level 1 gives one up (71 at >= 1 either way)
        (2, 1.0, "tight"),
    ],
)
def test_neighbourhoods_keep_every_rule_and_every_level(
    seed: int, supply: float, family: str
) -> None:
    ctx = Context(generate_scenario(150, 400, seed=seed, supply=supply, family=family))
    units = build_units(ctx)
    moved = augment(ctx, units, packing_allocation(ctx, units))
    before = to_assignment(units, moved)
    after = lns_moves(ctx, units, moved, time.monotonic() + 5, OPTIONS, TWO_PASSES)
    after = to_assignment(units, after)
    assert plan_violations(ctx, after) == []
    pairs = zip(_cumulative(ctx, before), _cumulative(ctx, after), strict=True)
    assert all(b <= a for b, a in pairs)


def test_neighbourhoods_place_a_person_the_one_step_moves_left_out() -> None:
    # Measured on this generated instance: 31 persons of priority 1 after the one-step
    # moves, 32 after the neighbourhoods (the levels above unchanged).
    ctx = Context(generate_scenario(150, 400, seed=3, supply=0.7))
    units = build_units(ctx)
    moved = augment(ctx, units, packing_allocation(ctx, units))
    after = lns_moves(ctx, units, moved, time.monotonic() + 5, OPTIONS, TWO_PASSES)
    after = to_assignment(units, after)
    before = _cumulative(ctx, to_assignment(units, moved))
    assert _cumulative(ctx, after)[:4] == before[:4]
    assert _cumulative(ctx, after)[4] > before[4]


def test_the_search_stops_once_the_plan_is_enough() -> None:
    # The same instance: told that any plan is enough, the search stops after the first
    # neighbourhood that places someone more, and keeps what it placed.
    ctx = Context(generate_scenario(150, 400, seed=3, supply=0.7))
    units = build_units(ctx)
    moved = augment(ctx, units, packing_allocation(ctx, units))
    asked: list[Allocation] = []

    def enough(alloc: Allocation) -> bool:
        asked.append(alloc)
        return True

    limits = LnsLimits(passes=2, enough=enough)
    after = lns_moves(ctx, units, moved, time.monotonic() + 5, OPTIONS, limits)
    assert len(asked) == 1 and asked[0] == after
    before = _cumulative(ctx, to_assignment(units, moved))
    assert _cumulative(ctx, to_assignment(units, after))[4] > before[4]
    assert plan_violations(ctx, to_assignment(units, after)) == []


def test_heuristic_path_reports_the_neighbourhoods_plan_and_keeps_it_valid() -> None:
    # A model estimated at 1 s per pair never fits the time: the plan is the heuristics'.
    ctx = Context(generate_scenario(150, 400, seed=3, supply=0.7))
    events: list[ProgressEvent] = []
    options = EngineOptions(
        explain=False, solve=SolveOptions(time_limit=5, workers=1, model_seconds_per_pair=1.0)
    )
    solved = plan_assignment(ctx, options, events.append)
    stages = [e.stage for e in events if e.is_plan]
    assert NEIGHBOURHOODS_STAGE in stages
    assert plan_violations(ctx, solved.assignment) == []
    # The moves to cheaper places after it keep every level's persons.
    reported = next(e for e in events if e.stage == NEIGHBOURHOODS_STAGE).placed_at_or_above
    assert _cumulative(ctx, solved.assignment) == list(reported.values())


@pytest.mark.parametrize("above", [0, 10**9])
@pytest.mark.slow
def test_exact_path_starts_from_the_neighbourhoods_only_above_its_column_count(
    above: int,
) -> None:
    # With no column threshold (0) the exact path first runs the neighbourhoods of the
    # unplaced (the first plan is under the flow bound here); with a threshold above the
    # model's columns it does not. Either way every rule holds and, the instance being
    # small, every level is proven at the same optimum.
    ctx = Context(generate_scenario(150, 400, seed=3, supply=0.7))
    events: list[ProgressEvent] = []
    solve = SolveOptions(time_limit=20, workers=1, neighbourhoods_first_above=above)
    solved = plan_assignment(ctx, EngineOptions(explain=False, solve=solve), events.append)
    stages = [e.stage for e in events if e.is_plan]
    assert (NEIGHBOURHOODS_STAGE in stages) == (above == 0)
    assert plan_violations(ctx, solved.assignment) == []
    assert solved.proven_levels == (5, 4, 3, 2, 1), solved
    assert solved.bound is not None
    assert _cumulative(ctx, solved.assignment) == [solved.bound[p] for p in (5, 4, 3, 2, 1)]


def test_search_stops_once_every_window_has_placed_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    # One place and two women: the second can never be placed. Each pass aims at her with
    # the next window of shelters; after a whole round of windows that placed nobody the
    # search stops, long before its deadline and its passes (20) run out.
    ctx = Context(
        scenario(
            [shelter("a", capacity=1)],
            [arrival("w1", languages=["fr"]), arrival("w2", languages=["de"])],
        )
    )
    units = build_units(ctx)
    solves: list[int] = []
    real_solve = lns._Neighbourhood.solve

    def counted(self: lns._Neighbourhood, *args: Any) -> Allocation | None:
        solves.append(1)
        return real_solve(self, *args)

    monkeypatch.setattr(lns._Neighbourhood, "solve", counted)
    start: Allocation = {units.unit_of["w1"]: {"a": 1}}
    after = lns_moves(ctx, units, start, time.monotonic() + 60, OPTIONS)
    assert after == start
    assert len(solves) == LnsLimits().windows < LnsLimits().passes
