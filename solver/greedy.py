"""The baseline: what a coordinator does by telephone.

Take people by priority (most urgent first; then larger households, then id), and put each
in the nearest admissible shelter that still has room for the whole stay. No look-ahead, no
moving anyone once placed.
"""

from __future__ import annotations

import numpy as np

from placement.context import Context
from solver.allocation import Allocation, place_in_order
from solver.units import Unit, Units


def greedy_allocation(ctx: Context, units: Units, fixed: Allocation | None = None) -> Allocation:
    """Units by priority, larger first; each into the nearest admissible shelter with room
    (then the cheapest, then by id). ``fixed`` copies are placed first, as they are."""
    ranks = ctx.id_ranks()

    def nearest(unit: Unit) -> np.ndarray:
        index = unit.shelter_index
        near = ctx.distances(unit.members[0])[index]
        ordered: np.ndarray = index[np.lexsort((ranks[index], unit.costs, near))]
        return ordered

    order = sorted(units.units, key=lambda u: (-u.priority, -u.persons, u.arrival_ids[0]))
    return place_in_order(ctx, units, order, nearest, fixed)
