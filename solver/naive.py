"""The naive CP-SAT model, for comparison at small sizes only.

One boolean ``x[a, s]`` per admissible (arrival, shelter) pair, no grouping of identical
arrivals, households as equalities between members' booleans. Same rules (admissibility,
capacity data and critical nights come from :mod:`placement.rules`), same lexicographic
objective (persons at priority 5, then 4..1, then the secondary cost of
:mod:`placement.costs`) as :mod:`solver.cpsat`, so the two must reach the same values; the
benchmarks compare how fast.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from placement.costs import placement_cost
from placement.models import Scenario
from placement.rules import (
    CapacityRule,
    Context,
    HouseholdRule,
    KeepApartRule,
    NetworkCapRule,
    admissible,
)

PRIORITIES = (5, 4, 3, 2, 1)


@dataclass
class NaiveResult:
    assignment: dict[str, str]
    proven_optimal: bool
    stages: list[tuple[str, int, str]]  # (stage, value, CP-SAT status)
    build_seconds: float
    solve_seconds: float
    variables: int

    def placed_persons_by_priority(self, ctx: Context) -> dict[int, int]:
        out = dict.fromkeys(PRIORITIES, 0)
        for aid in self.assignment:
            a = ctx.arrivals[aid]
            out[a.priority] += a.persons
        return out


def solve_naive(
    scenario: Scenario | Context, time_limit: float = 10.0, workers: int = 1, seed: int = 0
) -> NaiveResult:
    """Build the per-pair model and solve it lexicographically within ``time_limit``."""
    ctx = scenario if isinstance(scenario, Context) else Context(scenario)
    started = time.perf_counter()
    deadline = time.monotonic() + time_limit
    sc = ctx.scenario
    model = cp_model.CpModel()
    x: dict[tuple[str, str], cp_model.IntVar] = {}
    by_shelter: dict[str, list[str]] = defaultdict(list)
    for a in sc.arrivals:
        stay = ctx.stay(a)
        for s in sc.shelters:
            if not admissible(ctx, a, s):
                continue
            places = ctx.nightly_places(s)
            if any(places[n] < CapacityRule.places(a) for n in stay):
                continue
            x[(a.id, s.id)] = model.new_bool_var(f"x_{a.id}_{s.id}")
            by_shelter[s.id].append(a.id)
    placed: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for (aid, _), var in x.items():
        placed[aid].append(var)
    for vars_ in placed.values():
        model.add_at_most_one(vars_)
    # Households: every member in the same shelter, or none placed.
    for members in HouseholdRule.groups(ctx).values():
        first, rest = members[0], members[1:]
        shelters = {sid for (aid, sid) in x if aid in members}
        for sid in shelters:
            v0 = x.get((first, sid))
            for m in rest:
                vm = x.get((m, sid))
                if v0 is None or vm is None:
                    for v in (v0, vm):
                        if v is not None:
                            model.add(v == 0)
                else:
                    model.add(v0 == vm)
    for a_id, b_id in KeepApartRule.pairs(ctx):
        for sid in ctx.shelters:
            if (a_id, sid) in x and (b_id, sid) in x:
                model.add_at_most_one(x[(a_id, sid)], x[(b_id, sid)])
    cap = NetworkCapRule.cap(ctx)
    if cap is not None:
        for members in NetworkCapRule.groups(ctx).values():
            for sid in ctx.shelters:
                vs = [x[(m, sid)] for m in members if (m, sid) in x]
                if len(vs) > cap:
                    model.add(sum(vs) <= cap)
    for sid, aids in by_shelter.items():
        shelter = ctx.shelters[sid]
        places = ctx.nightly_places(shelter)
        arrivals = [ctx.arrivals[i] for i in aids]
        for n in CapacityRule.critical_nights(ctx, shelter, arrivals):
            terms = [(CapacityRule.places(a), x[(a.id, sid)]) for a in arrivals if n in ctx.stay(a)]
            if sum(k for k, _ in terms) > places[n]:
                model.add(sum(k * v for k, v in terms) <= places[n])

    objectives: list[tuple[str, cp_model.LinearExprT, bool]] = []
    for p in PRIORITIES:
        level = [
            (ctx.arrivals[aid].persons, v)
            for (aid, _), v in x.items()
            if ctx.arrivals[aid].priority == p
        ]
        if level:
            objectives.append((f"priority_{p}", sum(k * v for k, v in level), True))
    cost = [
        (placement_cost(ctx, ctx.arrivals[aid], ctx.shelters[sid]).total, v)
        for (aid, sid), v in x.items()
    ]
    objectives.append(("secondary_cost", sum(c * v for c, v in cost if c), False))
    build_seconds = time.perf_counter() - started

    solving = time.perf_counter()
    stages: list[tuple[str, int, str]] = []
    proven = True
    solution: dict[tuple[str, str], int] = {}
    for name, expr, maximise in objectives:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proven = False
            break
        if maximise:
            model.maximize(expr)
        else:
            model.minimize(expr)
        if solution:
            model.clear_hints()
            for key, var in x.items():
                model.add_hint(var, solution.get(key, 0))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.01, remaining)
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            proven = False
            stages.append((name, -1, solver.status_name(status)))
            break
        value = int(round(solver.objective_value))
        stages.append((name, value, solver.status_name(status)))
        solution = {key: int(solver.value(var)) for key, var in x.items()}
        if status != cp_model.OPTIMAL:
            proven = False
            break
        model.add(expr >= value if maximise else expr <= value)
    assignment = {aid: sid for (aid, sid), v in solution.items() if v}
    return NaiveResult(
        assignment=assignment,
        proven_optimal=proven,
        stages=stages,
        build_seconds=build_seconds,
        solve_seconds=time.perf_counter() - solving,
        variables=len(x),
    )
