"""The plan rules' three encodings agree: the validator's check, the incremental checker
(packing, greedy, re-plans, explanations) and the linear model's rows (LP and CP-SAT).

Random instances, random plans: each plan is judged by all three, and every verdict must be
the same. Plans are built copy by copy in random shelters, some only where the incremental
checker says a copy fits, then some with random copies added without asking, so that both
verdicts occur often.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from placement.context import Context
from placement.generate import generate_scenario
from placement.occupancy import Occupancy
from placement.validation import plan_violations
from solver.allocation import Allocation, to_assignment
from solver.linear import LinearModel
from solver.units import Units, build_units

SEEDS = range(40)
PLANS_PER_INSTANCE = 12

Step = tuple[int, int, int]  # unit index, shelter position, copies


def random_instance(seed: int) -> tuple[Context, Units]:
    rng = random.Random(seed)
    sc = generate_scenario(
        rng.randint(6, 30),
        rng.randint(3, 14),
        nights=rng.randint(6, 20),
        seed=seed,
        supply=rng.choice([0.4, 0.8, 1.3, None]),
        network_cap=rng.choice([None, 1, 2, 3]),
    )
    ctx = Context(sc)
    return ctx, build_units(ctx)


def random_plan(ctx: Context, units: Units, rng: random.Random, extra: int) -> list[Step]:
    """Copies in random admissible shelters: where the incremental checker accepts them,
    then ``extra`` copies wherever (which may break a rule)."""
    occupancy = Occupancy(ctx)
    steps: list[Step] = []
    placed = dict.fromkeys(range(len(units.units)), 0)
    order = [u for u in units.units if len(u.shelter_index)]
    rng.shuffle(order)
    for unit in order:
        for _ in range(rng.randint(0, unit.count)):
            si = int(rng.choice(unit.shelter_index.tolist()))
            if occupancy.copies_fitting(unit, si, 1):
                occupancy.place(unit, si, 1)
                steps.append((unit.index, si, 1))
                placed[unit.index] += 1
    for _ in range(extra):
        left = [u for u in order if placed[u.index] < u.count]
        if not left:
            break
        unit = rng.choice(left)
        steps.append((unit.index, int(rng.choice(unit.shelter_index.tolist())), 1))
        placed[unit.index] += 1
    return steps


def incremental_verdict(ctx: Context, units: Units, steps: list[Step]) -> bool:
    """Every copy fits, in the order given, by the incremental checker (its scalar and its
    vectorised answers must agree at every step)."""
    occupancy = Occupancy(ctx)
    valid = True
    for ui, si, copies in steps:
        unit = units.units[ui]
        fits_one = bool(occupancy.fits(unit, np.array([si]))[0])
        assert fits_one == (occupancy.copies_fitting(unit, si, 1) >= 1), (ui, si)
        valid = valid and occupancy.copies_fitting(unit, si, copies) >= copies
        occupancy.place(unit, si, copies)
    return valid


def allocation_of(ctx: Context, steps: list[Step]) -> Allocation:
    alloc: Allocation = {}
    for ui, si, copies in steps:
        sid = ctx.scenario.shelters[si].id
        where = alloc.setdefault(ui, {})
        where[sid] = where.get(sid, 0) + copies
    return alloc


@pytest.mark.parametrize("seed", SEEDS)
def test_validator_incremental_checker_and_linear_model_agree(seed: int) -> None:
    ctx, units = random_instance(seed)
    lin = LinearModel(ctx, units)
    rng = random.Random(seed)
    verdicts = []
    for k in range(PLANS_PER_INSTANCE):
        steps = random_plan(ctx, units, rng, extra=k % 4)
        rng.shuffle(steps)  # the incremental verdict may not depend on the order
        alloc = allocation_of(ctx, steps)
        found = plan_violations(ctx, to_assignment(units, alloc))
        validator = found == []
        incremental = incremental_verdict(ctx, units, steps)
        linear = lin.satisfies(lin.to_columns(alloc))
        assert validator == incremental == linear, (k, found, incremental, linear)
        verdicts.append(validator)
    assert any(verdicts) or not lin.n_columns  # a plan with nothing placed is always valid


def test_the_random_plans_reach_both_verdicts_and_every_plan_rule() -> None:
    # The agreement above means something only if plans are refused, by each plan rule.
    broken: set[str] = set()
    valid = refused = 0
    for seed in SEEDS:
        ctx, units = random_instance(seed)
        rng = random.Random(seed)
        for k in range(PLANS_PER_INSTANCE):
            steps = random_plan(ctx, units, rng, extra=k % 4)
            found = plan_violations(ctx, to_assignment(units, allocation_of(ctx, steps)))
            broken |= {v.split(":")[0] for v in found}
            valid += not found
            refused += bool(found)
    assert {"capacity", "keep_apart", "network_cap"} <= broken, broken
    assert valid > 100 and refused > 100, (valid, refused)
