"""The re-solve that verifies a relaxation: can the unplaced people be placed in a changed
scenario while everyone already placed stays placed, and with which moves?

Kept apart from the planning stages (:mod:`solver.engine`, :mod:`solver.cpsat`) so that the
explanations and the stages change independently. It returns the re-solve's plan, so that
the explanation can say where the person goes and who else moves
(:class:`placement.explain.Resolved`).

Two steps:

1. everyone else exactly where they are (:func:`solver.replan.replan_unit`: exact, fast, no
   moves);
2. otherwise CP-SAT on the changed scenario, everyone kept placed (``must_place`` rows),
   the fixed (accepted) placements pinned to their shelter: first any plan, then, if it
   moves people, as few people moved as it finds in a quarter of the time limit (the
   objective counts the people left where they are). A group of interchangeable people is
   one decision per shelter, so the people of a group are handed the shelters the
   re-solve chose with as few of them moving as possible (:func:`seat_people`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

from placement.context import Assignment, Context
from placement.explain import ReSolve, Resolved
from placement.models import Scenario
from solver.allocation import Allocation, to_allocation
from solver.cpsat import PlacementModel, configured_solver
from solver.linear import INF, LinearModel
from solver.options import SolveOptions
from solver.replan import replan_unit
from solver.units import Units, build_units


def feasibility_check(options: SolveOptions, max_pairs_for_resolve: int = 200_000) -> ReSolve:
    """A re-solve: can ``targets`` be placed while everyone in ``keep`` stays placed and
    everyone in ``fixed`` stays where they are? Returns its plan (``keep`` with its moves,
    and the targets), or why it has none.

    ``options``: the CP-SAT time limit (of each re-solve), workers and seed.
    ``max_pairs_for_resolve``: above this many arrivals x shelters, only step 1 is tried
    (a CP-SAT re-solve per suggestion would not fit the explanation budget).
    """

    def resolve(
        changed: Scenario, keep: Assignment, targets: Sequence[str], fixed: frozenset[str]
    ) -> Resolved:
        ctx = Context(changed)
        # Cheap and sufficient: the targets fit with everyone else exactly where they are.
        found = replan_unit(ctx, keep, targets[0])
        if found.shelter is not None:
            return Resolved({**keep, **dict.fromkeys(found.arrival_ids, found.shelter)})
        if len(changed.arrivals) * len(changed.shelters) > max_pairs_for_resolve:
            return Resolved(None, decided=False)
        return resolve_with_moves(ctx, keep, targets, fixed, options)

    return resolve


def resolve_with_moves(
    ctx: Context,
    keep: Assignment,
    targets: Sequence[str],
    fixed: frozenset[str],
    options: SolveOptions,
) -> Resolved:
    """Step 2: CP-SAT, everyone in ``keep`` placed, ``fixed`` pinned; first any plan (a
    feasibility question, as fast as before moves were stated), then, when that plan moves
    people, fewer moves within a quarter of the time limit (never worse than the first)."""
    units = build_units(ctx)
    now = to_allocation(units, keep)
    lin = LinearModel(ctx, units, must_place=_must_place(units, keep, targets))
    if not _pin(lin, units, to_allocation(units, {a: keep[a] for a in fixed if a in keep})):
        return Resolved(None)  # a fixed placement the changed scenario no longer admits
    model = PlacementModel(lin)
    model.hint(now)
    status, found = _solve(model, options, options.time_limit)
    if status == cp_model.INFEASIBLE:
        return Resolved(None)
    if found is None:
        return Resolved(None, decided=False)
    placed = seat_people(units, found, keep, targets, fixed)
    if all(placed[k] == s for k, s in keep.items()):
        return Resolved(placed)
    model.hint(found)
    model.model.maximize(_staying(model, units, now))
    _, fewer = _solve(model, options, options.time_limit / 4)
    return Resolved(seat_people(units, fewer, keep, targets, fixed) if fewer else placed)


def _staying(model: PlacementModel, units: Units, now: Allocation) -> cp_model.LinearExpr:
    """People left where they are (a household counts its members)."""
    staying = []
    for ui, where in now.items():
        weight = len(units.units[ui].arrival_ids) if units.units[ui].is_household else 1
        for sid, copies in where.items():
            var = model.y.get((ui, sid))
            if var is not None:
                stay = model.model.new_int_var(0, copies, f"stay_{ui}_{sid}")
                model.model.add(stay <= var)
                staying.append(weight * stay)
    return cp_model.LinearExpr.sum(staying)


def _solve(
    model: PlacementModel, options: SolveOptions, seconds: float
) -> tuple[cp_model.CpSolverStatus, Allocation | None]:
    """CP-SAT's status, and its solution when it found one."""
    # The stages' parameters (linearization level 2 among them). Measured here on a
    # generated 100 x 300 (seed 1, supply 0.6): with the default level the re-solves took
    # 0.44 s each and the 20 s budget ran out after 20-25 of 70 unplaced; with level 2 all
    # 70 were searched in 5-10 s.
    solver = configured_solver(options, seconds)
    status = solver.solve(model.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status, model.read(solver.value)
    return status, None


def _must_place(units: Units, keep: Assignment, targets: Sequence[str]) -> dict[int, int]:
    """Copies each unit must have placed: everyone kept, and the targets."""
    must: dict[int, int] = {}
    for aid in [*keep, *targets]:
        ui = units.unit_of[aid]
        must[ui] = 1 if units.units[ui].is_household else must.get(ui, 0) + 1
    return must


def _pin(lin: LinearModel, units: Units, pinned: Allocation) -> bool:
    """Rows keeping at least the pinned copies in their shelters; False if a pinned
    shelter has no column (no longer admissible)."""
    for ui, where in pinned.items():
        cols = lin.columns_of(ui)
        for sid, copies in where.items():
            at = cols[lin.col_shelter[cols] == lin.ctx.index(sid)]
            if not len(at):
                return False
            lin.add_row(at, np.ones(len(at)), copies, INF, "fixed")
    return True


def seat_people(
    units: Units,
    allocation: Allocation,
    keep: Assignment,
    targets: Sequence[str],
    fixed: frozenset[str],
) -> dict[str, str]:
    """Who goes where in ``allocation``: everyone kept and the targets, nobody else.

    Within a group, whoever has a seat left in their shelter keeps it (fixed people first);
    the others (the targets, then those who must move) take the seats left, in shelter id
    order. Copies placed for other people of the group are left out: removing a placement
    never breaks a plan rule.
    """
    wanted = set(keep) | set(targets)
    out: dict[str, str] = {}
    for unit in units.units:
        mine = [i for i in unit.arrival_ids if i in wanted]
        where = {sid: n for sid, n in allocation.get(unit.index, {}).items() if n}
        if not mine or not where:
            continue
        if unit.is_household:
            out.update(dict.fromkeys(unit.arrival_ids, min(where)))
            continue
        moving = []
        for i in sorted(mine, key=lambda i: (i not in fixed, i not in keep, i)):
            sid = keep.get(i)
            if sid is not None and where.get(sid, 0) > 0:
                out[i] = sid
                where[sid] -= 1
            else:
                moving.append(i)
        seats = [sid for sid in sorted(where) for _ in range(where[sid])]
        out.update(zip(moving, seats, strict=False))
    return out
