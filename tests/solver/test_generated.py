"""Generated instances: every plan valid, CP-SAT never behind greedy, explanations complete."""

from __future__ import annotations

import pytest

from placement.generate import generate_scenario
from tests.builders import solve


def _lex(plan) -> tuple[int, ...]:
    return tuple(plan.placed_persons_by_priority[str(p)] for p in (5, 4, 3, 2, 1))


@pytest.mark.parametrize("seed", range(6))
def test_generated_instance_plans_are_valid_and_cpsat_not_behind_greedy(seed: int):
    sc = generate_scenario(30, 40, seed=seed)
    greedy = solve(sc, solver="greedy", explain=False)  # solve() runs the validator
    best = solve(sc)
    assert _lex(best) >= _lex(greedy)
    bound = best.upper_bound_persons_at_or_above
    assert bound is not None
    for p in "54321":
        placed_at_or_above = sum(v for q, v in best.placed_persons_by_priority.items() if q >= p)
        assert placed_at_or_above <= bound[p]
    for u in best.unplaced:
        assert u.reasons, u.arrival
        for r in u.relaxations:
            assert r.text and r.kind


@pytest.mark.parametrize("seed", range(2))
def test_naive_per_pair_model_reaches_the_same_optimum(seed: int):
    # Grouping identical people and the weighted single stage must not change the optimum.
    from placement.context import Context, persons_by_priority
    from solver.naive import solve_naive

    sc = generate_scenario(30, 40, seed=seed)
    best = solve(sc, explain=False)
    naive = solve_naive(sc, time_limit=20)
    assert naive.proven_optimal
    ctx = Context(sc)
    assert persons_by_priority(ctx, list(naive.assignment)) == best.placed_persons_by_priority
    assert naive.stages[-1].value == best.secondary_cost
