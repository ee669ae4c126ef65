"""The re-solve that verifies a relaxation: can the unplaced people be placed in a changed
scenario while everyone already placed stays placed?

Kept apart from the planning stages (:mod:`solver.engine`, :mod:`solver.cpsat`) so that the
explanations and the stages change independently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from placement.context import Assignment, Context
from placement.models import Scenario
from solver.allocation import to_allocation
from solver.cpsat import PlacementModel, is_feasible
from solver.linear import LinearModel
from solver.options import SolveOptions
from solver.replan import replan_unit
from solver.units import build_units


def feasibility_check(
    options: SolveOptions, max_pairs_for_resolve: int = 200_000
) -> Callable[[Scenario, Assignment, Sequence[str]], bool | None]:
    """A re-solve: can ``targets`` be placed while everyone in ``keep`` stays placed?

    First with everyone else fixed (exact and fast, :mod:`solver.replan`); if that fails,
    with everyone else free to move, by CP-SAT, on instances small enough for it.
    """

    def check(changed: Scenario, keep: Assignment, targets: Sequence[str]) -> bool | None:
        ctx = Context(changed)
        # Cheap and sufficient: the targets fit with everyone else exactly where they are.
        if replan_unit(ctx, keep, targets[0]).shelter is not None:
            return True
        if len(changed.arrivals) * len(changed.shelters) > max_pairs_for_resolve:
            return None  # a full re-solve per suggestion would not fit the budget at this size
        units = build_units(ctx)
        must: dict[int, int] = {}
        for aid in [*keep, *targets]:
            ui = units.unit_of[aid]
            unit = units.units[ui]
            must[ui] = 1 if unit.is_household else must.get(ui, 0) + 1
        model = PlacementModel(LinearModel(ctx, units, must_place=must))
        return is_feasible(model, options, hint=to_allocation(units, keep))

    return check
